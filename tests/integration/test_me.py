"""The personal centre: profile, avatar through a presigned S3 POST, preferences, change of password."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from riveredge import keys
from riveredge.clock import new_id
from riveredge.db.models import LoginIdentity, LoginThrottle, OperationLogEntry, Session, User
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user
from tests.integration.conftest import TenantFixture, login
from tests.support import PASSWORD, claims_of

NEW_PASSWORD = "Battery-staple-77"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


# -- helpers --------------------------------------------------------------------------------
def _person(stack: LocalStack, tenant: TenantFixture) -> dict[str, Any]:
    """A fresh account of `tenant` with no role at all (the personal centre needs none), signed in."""
    return {**make_user(stack, tenant.id, tenant.code, [], name="Pat Person"), "tenant": tenant}


def _stored_user(tenant_id: str, user_id: str) -> User:
    scope = Scope(tenant_id)
    key = keys.user(scope, user_id)
    with use_scope(scope):
        return User.get(key.pk, key.sk, consistent_read=True)


def _identity(tenant_id: str, email: str) -> LoginIdentity:
    scope = Scope(tenant_id)
    key = keys.login(scope, email)
    with use_scope(scope):
        return LoginIdentity.get(key.pk, key.sk, consistent_read=True)


def _oplog(tenant_id: str, actor_id: str) -> list[OperationLogEntry]:
    scope = Scope(tenant_id)
    with use_scope(scope):
        entries = OperationLogEntry.query(keys.collection(scope, "OPLOG"), consistent_read=True)
        return [e for e in entries if isinstance(e, OperationLogEntry) and e.actor_id == actor_id]


def _fields(reply: Any) -> list[str]:
    return [e["field"] for e in reply.json().get("errors", [])]


def _me(stack: LocalStack, method: str, path: str, token: str, body: Any = None) -> Any:
    return stack.request(method, f"/api/me/{path}", token=token, json_body=body)


@pytest.fixture
def person(stack: LocalStack, acme: TenantFixture) -> dict[str, Any]:
    return _person(stack, acme)


# -- profile --------------------------------------------------------------------------------
def test_the_profile_shows_the_callers_own_account(stack: LocalStack, person: dict[str, Any]) -> None:
    reply = _me(stack, "GET", "profile", person["token"])
    assert reply.status == 200
    body = reply.json()
    assert (body["id"], body["email"], body["name"]) == (person["id"], person["email"], "Pat Person")
    assert body["bio"] is None and body["phone"] is None and body["contacts"] == {}
    assert body["avatar_url"] is None
    assert body["version"] == 1 and body["created_at"].endswith("Z")


def test_the_profile_needs_a_token(stack: LocalStack) -> None:
    assert stack.request("GET", "/api/me/profile").status == 401


def test_updating_the_profile_changes_what_it_names(stack: LocalStack, person: dict[str, Any]) -> None:
    # When the caller changes their profile with the version they read
    change = {
        "name": "Pat Q. Person",
        "bio": "Keeps the books.",
        "phone": "+44 20 7946 0000",
        "contacts": {"wechat": "pat_q", "telegram": "@patq"},
        "version": 1,
    }
    reply = _me(stack, "PUT", "profile", person["token"], change)

    # Then the answer, a later read and the stored user show the change, one version on
    assert reply.status == 200
    body = reply.json()
    assert (body["name"], body["bio"], body["phone"], body["contacts"]) == (
        "Pat Q. Person",
        "Keeps the books.",
        "+44 20 7946 0000",
        {"wechat": "pat_q", "telegram": "@patq"},
    )
    assert body["version"] == 2
    assert _me(stack, "GET", "profile", person["token"]).json() == body
    stored = _stored_user(person["tenant"].id, person["id"])
    assert (stored.name, stored.bio, stored.contacts) == ("Pat Q. Person", "Keeps the books.", change["contacts"])
    # And a later change of one field leaves the others; null clears a field
    later = _me(stack, "PUT", "profile", person["token"], {"bio": None, "version": 2}).json()
    assert (later["name"], later["bio"], later["phone"]) == ("Pat Q. Person", None, "+44 20 7946 0000")
    # And the operation log holds both changes
    actions = [e.action for e in _oplog(person["tenant"].id, person["id"])]
    assert actions.count("user.update_profile") == 2


def test_a_stale_profile_version_is_412_and_changes_nothing(stack: LocalStack, person: dict[str, Any]) -> None:
    assert _me(stack, "PUT", "profile", person["token"], {"name": "First", "version": 1}).status == 200
    stale = _me(stack, "PUT", "profile", person["token"], {"name": "Second", "version": 1})
    assert stale.status == 412
    assert stale.json()["type"] == "/problems/stale-version"
    assert _stored_user(person["tenant"].id, person["id"]).name == "First"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bio": "x" * 501, "version": 1}, "bio"),
        ({"contacts": {f"k{i}": "v" for i in range(11)}, "version": 1}, "contacts"),
        ({"contacts": {"wechat": 42}, "version": 1}, "contacts.wechat"),
        ({"contacts": ["wechat"], "version": 1}, "contacts"),
        ({"phone": "call me", "version": 1}, "phone"),
        ({"name": "", "version": 1}, "name"),
        ({"name": None, "version": 1}, "name"),
        ({"name": "Pat"}, "version"),
        ({"name": "Pat", "version": "one"}, "version"),
        ({"email": "me@evil.example", "version": 1}, "email"),
        ({"avatar_key": "x", "version": 1}, "avatar_key"),
    ],
)
def test_bad_profile_bodies_are_422_naming_the_field(
    stack: LocalStack, person: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    reply = _me(stack, "PUT", "profile", person["token"], body)
    assert reply.status == 422, reply.body
    assert reply.content_type == "application/problem+json"
    assert field in _fields(reply)
    assert _stored_user(person["tenant"].id, person["id"]).version == 1


# -- avatar ---------------------------------------------------------------------------------
def _upload(stack: LocalStack, person: dict[str, Any], content: bytes = PNG, content_type: str = "image/png") -> str:
    """Ask for a presigned POST and upload through it, as a browser would; answers the key."""
    ticket = _me(stack, "POST", "avatar/upload", person["token"], {"content_type": content_type}).json()
    answer = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": ("avatar", content, content_type)}, timeout=10
    )
    assert answer.status_code in (200, 204), answer.text
    return str(ticket["key"])


def test_the_avatar_upload_is_a_presigned_post_limited_in_type_and_size(
    stack: LocalStack, person: dict[str, Any]
) -> None:
    # When the caller asks to upload a PNG
    reply = _me(stack, "POST", "avatar/upload", person["token"], {"content_type": "image/png"})

    # Then they get a form for their own avatar prefix whose signed policy pins the type and 2 MB
    assert reply.status == 200
    ticket = reply.json()
    prefix = f"{person['tenant'].id}/avatars/{person['id']}/"
    assert ticket["key"].startswith(prefix) and len(ticket["key"]) == len(prefix) + 26
    assert ticket["fields"]["key"] == ticket["key"]
    assert ticket["fields"]["Content-Type"] == "image/png"
    assert ticket["max_bytes"] == 2 * 1024 * 1024
    assert stack.environment["FILES_BUCKET"] in ticket["url"]
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    assert ["content-length-range", 1, 2 * 1024 * 1024] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert {"key": ticket["key"]} in policy["conditions"]


def test_a_confirmed_avatar_shows_as_a_short_lived_link(stack: LocalStack, person: dict[str, Any]) -> None:
    # Given an image uploaded through the presigned POST
    key = _upload(stack, person)

    # When the caller confirms it
    reply = _me(stack, "PUT", "avatar", person["token"], {"key": key})

    # Then it is their avatar: stored by key, shown as a presigned link valid 15 minutes
    assert reply.status == 200
    assert _stored_user(person["tenant"].id, person["id"]).avatar_key == key
    url = _me(stack, "GET", "profile", person["token"]).json()["avatar_url"]
    assert urlparse(url).path.endswith(key)
    assert parse_qs(urlparse(url).query)["X-Amz-Expires"] == ["900"]
    assert requests.get(url, timeout=10).content == PNG


def test_an_avatar_key_outside_the_callers_prefix_is_422(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture, person: dict[str, Any]
) -> None:
    # Given an image another person of acme uploaded, and one of a globex person
    neighbour_key = _upload(stack, _person(stack, acme))
    foreign_key = _upload(stack, _person(stack, globex))
    own_prefix = f"{acme.id}/avatars/{person['id']}/"

    # Then none of them, nor a key that climbs out of the prefix, can become the caller's avatar
    for key in (neighbour_key, foreign_key, own_prefix + "../../" + neighbour_key.split("/")[-1], "avatar.png"):
        reply = _me(stack, "PUT", "avatar", person["token"], {"key": key})
        assert reply.status == 422, key
        assert _fields(reply) == ["key"]
    assert _stored_user(acme.id, person["id"]).avatar_key is None


def test_an_avatar_that_was_not_uploaded_is_422(stack: LocalStack, person: dict[str, Any]) -> None:
    ticket = _me(stack, "POST", "avatar/upload", person["token"], {"content_type": "image/webp"}).json()
    reply = _me(stack, "PUT", "avatar", person["token"], {"key": ticket["key"]})
    assert reply.status == 422
    assert _fields(reply) == ["key"]
    assert "uploaded" in reply.json()["errors"][0]["message"]


def test_an_upload_that_is_not_an_image_is_refused(
    stack: LocalStack, person: dict[str, Any], acme: TenantFixture
) -> None:
    # Given an object under the caller's prefix that is not one of the image types (put there directly)
    key = f"{acme.id}/avatars/{person['id']}/{new_id()}"
    boto3.client("s3").put_object(
        Bucket=stack.environment["FILES_BUCKET"], Key=key, Body=b"<script>", ContentType="text/html"
    )
    reply = _me(stack, "PUT", "avatar", person["token"], {"key": key})
    assert reply.status == 422
    assert _fields(reply) == ["key"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"content_type": "image/svg+xml"}, "content_type"),
        ({"content_type": "text/html"}, "content_type"),
        ({}, "content_type"),
        ({"content_type": "image/png", "key": "mine"}, "key"),
    ],
)
def test_bad_avatar_upload_requests_are_422(
    stack: LocalStack, person: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    reply = _me(stack, "POST", "avatar/upload", person["token"], body)
    assert reply.status == 422
    assert field in _fields(reply)


# -- preferences ----------------------------------------------------------------------------
def test_preferences_start_as_defaults(stack: LocalStack, person: dict[str, Any]) -> None:
    reply = _me(stack, "GET", "preferences", person["token"])
    assert reply.status == 200
    assert reply.json() == {
        "theme": "system",
        "language": "en",
        "timezone": "UTC",
        "notifications": {"email": True, "in_app": True, "sms": False},
        "version": 0,
        "updated_at": None,
    }


def test_preferences_are_stored_and_versioned(stack: LocalStack, person: dict[str, Any]) -> None:
    # When the caller sets their preferences from the defaults (version 0)
    first = _me(
        stack,
        "PUT",
        "preferences",
        person["token"],
        {
            "theme": "dark",
            "language": "zh-cn",
            "timezone": "Asia/Shanghai",
            "notifications": {"sms": True},
            "version": 0,
        },
    )

    # Then they are stored (the language tag in its usual case), version 1
    assert first.status == 200
    body = first.json()
    assert (body["theme"], body["language"], body["timezone"], body["version"]) == (
        "dark",
        "zh-CN",
        "Asia/Shanghai",
        1,
    )
    assert body["notifications"] == {"email": True, "in_app": True, "sms": True}
    assert _me(stack, "GET", "preferences", person["token"]).json() == body
    # And a later change of one field keeps the rest
    second = _me(stack, "PUT", "preferences", person["token"], {"theme": "light", "version": 1}).json()
    assert (second["theme"], second["language"], second["version"]) == ("light", "zh-CN", 2)
    # And a stale version is a 412 that changes nothing
    stale = _me(stack, "PUT", "preferences", person["token"], {"theme": "dark", "version": 1})
    assert stale.status == 412
    assert _me(stack, "GET", "preferences", person["token"]).json()["theme"] == "light"


def test_preferences_are_the_callers_own(stack: LocalStack, acme: TenantFixture, person: dict[str, Any]) -> None:
    # Given one person's preferences set
    assert _me(stack, "PUT", "preferences", person["token"], {"theme": "dark", "version": 0}).status == 200
    # Then another person (of the same tenant) still sees the defaults
    other = _person(stack, acme)
    assert _me(stack, "GET", "preferences", other["token"]).json()["theme"] == "system"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"theme": "blue", "version": 0}, "theme"),
        ({"language": "english!", "version": 0}, "language"),
        ({"language": "zh_CN", "version": 0}, "language"),
        ({"timezone": "Mars/Olympus_Mons", "version": 0}, "timezone"),
        ({"timezone": "../../etc/passwd", "version": 0}, "timezone"),
        ({"timezone": "/etc/localtime", "version": 0}, "timezone"),
        ({"notifications": {"email": "sometimes"}, "version": 0}, "notifications.email"),
        ({"notifications": {"pigeon": True}, "version": 0}, "notifications.pigeon"),
        ({"theme": "dark"}, "version"),
        ({"theme": "dark", "version": -1}, "version"),
    ],
)
def test_bad_preferences_are_422_naming_the_field(
    stack: LocalStack, person: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    reply = _me(stack, "PUT", "preferences", person["token"], body)
    assert reply.status == 422, reply.body
    assert field in _fields(reply)
    assert _me(stack, "GET", "preferences", person["token"]).json()["version"] == 0


# -- password -------------------------------------------------------------------------------
def _change(stack: LocalStack, token: str, current: str, new: str) -> Any:
    return _me(stack, "POST", "password", token, {"current_password": current, "new_password": new})


def test_changing_the_password_signs_out_the_other_sessions_only(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any]
) -> None:
    # Given the person signed in on a second device too
    other = stack.login(acme.code, person["email"], PASSWORD)

    # When they change their password from the first
    reply = _change(stack, person["token"], PASSWORD, NEW_PASSWORD)

    # Then the other session ends on its next request, the caller's own goes on
    assert reply.status == 200
    assert reply.json() == {"revoked_sessions": 1}
    assert stack.request("GET", "/api/auth/me", token=other["access_token"]).status == 401
    assert stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": other["refresh_token"]}).status == 401
    assert stack.request("GET", "/api/auth/me", token=person["token"]).status == 200
    assert stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": person["refresh"]}).status == 200
    # And only the new password signs in
    assert login(stack, acme.code, person["email"], PASSWORD).status == 401
    assert login(stack, acme.code, person["email"], NEW_PASSWORD).status == 200
    # And the stored session says why it ended
    scope = Scope(acme.id)
    key = keys.session(scope, claims_of(other["access_token"])["sid"])
    with use_scope(scope):
        assert Session.get(key.pk, key.sk).revoked_reason == "password_changed"


def test_the_password_change_is_logged_without_the_password(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any]
) -> None:
    assert _change(stack, person["token"], PASSWORD, NEW_PASSWORD).status == 200
    [entry] = [e for e in _oplog(acme.id, person["id"]) if e.action == "user.change_password"]
    assert entry.resource_id == person["id"]
    text = json.dumps([entry.before, entry.after])
    assert NEW_PASSWORD not in text and PASSWORD not in text and "argon2" not in text


def test_a_wrong_current_password_is_422_and_counts_toward_nothing(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any]
) -> None:
    # When the caller gets their current password wrong, more times than sign-in would allow
    for _ in range(6):
        reply = _change(stack, person["token"], "Not-my-password-1", NEW_PASSWORD)
        assert reply.status == 422
        assert _fields(reply) == ["current_password"]

    # Then nothing changed: no failure counted, the old password still signs in
    scope = Scope(acme.id)
    with use_scope(scope):
        assert LoginThrottle.find(keys.login_throttle_account(scope, person["email"])) is None
    assert login(stack, acme.code, person["email"], PASSWORD).status == 200
    assert stack.request("GET", "/api/auth/me", token=person["token"]).status == 200


@pytest.mark.parametrize(
    ("new", "message"),
    [("short1", "at least 10"), ("no-digits-anywhere", "digit"), ("1234567890123", "letter"), (PASSWORD, "differ")],
)
def test_a_weak_or_unchanged_new_password_is_422(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any], new: str, message: str
) -> None:
    before = _identity(acme.id, person["email"]).password_hash
    reply = _change(stack, person["token"], PASSWORD, new)
    assert reply.status == 422
    assert _fields(reply) == ["new_password"]
    assert message in reply.json()["errors"][0]["message"]
    assert _identity(acme.id, person["email"]).password_hash == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"new_password": NEW_PASSWORD}, "current_password"),
        ({"current_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "user_id": "x"}, "user_id"),
        ({"current_password": "", "new_password": NEW_PASSWORD}, "current_password"),
    ],
)
def test_bad_password_bodies_are_422_naming_the_field(
    stack: LocalStack, person: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    reply = _me(stack, "POST", "password", person["token"], body)
    assert reply.status == 422
    assert field in _fields(reply)


def test_a_hash_is_never_answered(stack: LocalStack, person: dict[str, Any]) -> None:
    answers = [
        _me(stack, "GET", "profile", person["token"]).body,
        _change(stack, person["token"], PASSWORD, NEW_PASSWORD).body,
    ]
    assert all(b"argon2" not in body and b"password_hash" not in body for body in answers)
