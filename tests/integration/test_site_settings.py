"""Site settings: per-tenant branding and login page (with a presigned logo upload), language and time zone, and
the password policy and session length that sign-in obeys from then on; the public login-page configuration."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from riveredge import keys
from riveredge.clock import new_id, utcnow
from riveredge.db.models import LoginIdentity, OperationLogEntry, Session, SiteSettings, Tenant
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import InProcess, TenantFixture, login
from tests.integration.test_invitations import _invite, _register
from tests.integration.test_users import _activation_token
from tests.support import PASSWORD, claims_of, dynamodb_calls

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
STRICT = {"min_length": 14, "min_classes": 4}  # PASSWORD (16 characters, all four classes) still passes
WEAK = "onlylowercase123"  # 16 characters, two classes
OTHER = "Another-Strong-77"
THIRD = "Third-Strong-pass-88"


# -- helpers ---------------------------------------------------------------------------------
def _get(stack: LocalStack, token: str) -> dict[str, Any]:
    reply = stack.request("GET", "/api/site-settings", token=token)
    assert reply.status == 200, reply.body
    return dict(reply.json())


def _put(stack: LocalStack, token: str, body: dict[str, Any], **headers: str) -> Any:
    return stack.request("PUT", "/api/site-settings", token=token, json_body=body, headers=headers or None)


def _set(stack: LocalStack, token: str, **fields: Any) -> dict[str, Any]:
    """Change the settings on the version just read; answers what the PUT answered."""
    reply = _put(stack, token, {**fields, "version": _get(stack, token)["version"]})
    assert reply.status == 200, reply.body
    return dict(reply.json())


def _fields(reply: Any) -> set[str]:
    return {e["field"] for e in reply.json().get("errors", [])}


def _tenant(tenant_id: str) -> Tenant:
    with use_scope(Scope(tenant_id)):
        return Tenant.get(*keys.tenant(tenant_id), consistent_read=True)


def _document(tenant_id: str) -> SiteSettings | None:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return SiteSettings.find(keys.site_settings(scope))


def _oplog(tenant_id: str, action: str) -> list[OperationLogEntry]:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return [
            e for e in OperationLogEntry.query(keys.oplog(scope, "").pk, consistent_read=True) if e.action == action
        ]


def _public(stack: LocalStack, code: str, **headers: str) -> Any:
    return stack.request("GET", f"/api/public/tenant-config/{code}", headers=headers or None)


def _upload(stack: LocalStack, token: str, kind: str, content: bytes, content_type: str = "image/png") -> str:
    """Upload an image through the presigned POST the API hands out; answers its key."""
    reply = stack.request(
        "POST", "/api/site-settings/uploads", token=token, json_body={"kind": kind, "content_type": content_type}
    )
    assert reply.status == 200, reply.body
    ticket = reply.json()
    sent = requests.post(
        ticket["url"], data=ticket["fields"], files={"file": (kind, content, content_type)}, timeout=10
    )
    assert sent.status_code in (200, 204), sent.text
    return str(ticket["key"])


def _put_object(stack: LocalStack, key: str, content: bytes, content_type: str) -> None:
    boto3.client("s3").put_object(
        Bucket=stack.environment["FILES_BUCKET"], Key=key, Body=content, ContentType=content_type
    )


def _sessions(tenant_id: str, user_id: str) -> list[Session]:
    scope = Scope(tenant_id)
    with use_scope(scope):
        found = Session.gsi1.query(keys.user_sessions_index(scope, user_id), consistent_read=False)
        return [s for s in found if isinstance(s, Session)]


def _session(tenant_id: str, access_token: str) -> Session:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return Session.get(*keys.session(scope, claims_of(access_token)["sid"]), consistent_read=True)


def _change_password(stack: LocalStack, token: str, current: str, new: str) -> Any:
    body = {"current_password": current, "new_password": new}
    return stack.request("POST", "/api/me/password", token=token, json_body=body)


def _change_expired(stack: LocalStack, tenant: str, email: str, current: str, new: str) -> Any:
    body = {"tenant": tenant, "email": email, "current_password": current, "new_password": new}
    return stack.request("POST", "/api/auth/change-expired-password", json_body=body)


class Clock:
    """The auth function's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(in_process: InProcess, monkeypatch: pytest.MonkeyPatch) -> Clock:
    in_process("AuthFunction")  # the test patches its clock
    from auth import service

    frozen = Clock()
    monkeypatch.setattr(service, "utcnow", frozen)
    return frozen


# -- reading and changing ------------------------------------------------------------------------
def test_the_defaults_until_saved_then_changes_on_the_version_read(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    # Given an organisation that never saved its settings: the defaults, at version 0
    first = _get(stack, token)
    assert first["version"] == 0 and first["system_name"] == "RiverEdge" and first["time_zone"] == "UTC"
    assert first["password_policy"] == {
        "min_length": 10,
        "require_letter": True,
        "require_upper": False,
        "require_lower": False,
        "require_digit": True,
        "require_symbol": False,
        "min_classes": 0,
        "history": 0,
        "expiry_days": 0,
    }
    assert first["session_seconds"] == 30 * 24 * 3600
    # When the admin brands it and sets a policy and a session length
    body = {
        "version": 0,
        "system_name": "Acme Portal",
        "primary_color": "#0A7F3f",
        "login_title": "Welcome to Acme",
        "default_language": "zh-CN",
        "time_zone": "Asia/Shanghai",
        "password_policy": {"min_length": 12, "require_symbol": True, "history": 5, "expiry_days": 90},
        "session_seconds": 8 * 3600,
    }
    saved = _put(stack, token, body)
    # Then the answer and every later read show it, at version 1
    assert saved.status == 200, saved.body
    current = _get(stack, token)
    assert current == saved.json()
    assert (
        current["version"] == 1 and current["system_name"] == "Acme Portal" and current["time_zone"] == "Asia/Shanghai"
    )
    assert current["password_policy"]["min_length"] == 12 and current["password_policy"]["require_digit"] is True
    assert current["session_seconds"] == 8 * 3600
    # And the tenant item carries the copy sign-in reads, in the same change, with its log entry
    tenant = _tenant(fresh_tenant.id)
    assert tenant.password_policy == current["password_policy"] and tenant.session_seconds == 8 * 3600
    [entry] = _oplog(fresh_tenant.id, "site.update")
    assert entry.before is None and entry.after is not None and entry.after["system_name"] == "Acme Portal"
    # And the readers of the layer see it at once (the `site` stamp moved in that transaction)
    from riveredge import site

    with use_scope(Scope(fresh_tenant.id)) as scope:
        assert site.time_zone(scope) == "Asia/Shanghai" and site.default_language(scope) == "zh-CN"
    # A field left out stays, null clears a login text; the policy is changed field by field
    changed = _put(stack, token, {"version": 1, "login_title": None, "password_policy": {"history": 2}}).json()
    assert changed["login_title"] is None and changed["system_name"] == "Acme Portal"
    assert changed["password_policy"]["history"] == 2 and changed["password_policy"]["min_length"] == 12
    assert changed["version"] == 2


def test_a_stale_version_is_412_and_changes_nothing(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    _set(stack, token, system_name="First")
    # When a change names the version 0 it read before the first save, or a stale If-Match
    stale = _put(stack, token, {"version": 0, "system_name": "Second"})
    stale_header = _put(stack, token, {"version": 1, "system_name": "Second"}, **{"If-Match": '"7"'})
    # Then both are 412 and nothing changed
    assert stale.status == stale_header.status == 412
    assert stale.content_type == "application/problem+json"
    current = _get(stack, token)
    assert (current["system_name"], current["version"]) == ("First", 1)
    assert len(_oplog(fresh_tenant.id, "site.update")) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"primary_color": "red"}, "primary_color"),
        ({"primary_color": "#12345"}, "primary_color"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "localtime"}, "time_zone"),
        ({"default_language": "fr-FR"}, "default_language"),  # not a language the organisation has on
        ({"system_name": ""}, "system_name"),
        ({"system_name": "x" * 61}, "system_name"),
        ({"login_footer": "x" * 501}, "login_footer"),
        ({"password_policy": {"min_length": 4}}, "password_policy.min_length"),
        ({"password_policy": {"history": 25}}, "password_policy.history"),
        ({"password_policy": {"min_classes": 5}}, "password_policy.min_classes"),
        ({"password_policy": {"expiry_days": -1}}, "password_policy.expiry_days"),
        ({"password_policy": {"max_age": 3}}, "password_policy.max_age"),
        ({"session_seconds": 60}, "session_seconds"),
        ({"session_seconds": 31 * 24 * 3600}, "session_seconds"),
        ({"logo_key": "someone-else/site/logo/01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "logo_key"),
        ({"tenant_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "tenant_id"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(
    stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str
) -> None:
    token = acme.admin_token
    before, tenant_before = _get(stack, token), _tenant(acme.id)
    # When a change carries one bad field beside a good one
    reply = _put(stack, token, {"version": before["version"], "system_name": "Changed", **body})
    # Then it is a 422 naming that field, and neither the document nor the tenant's copy changed
    assert reply.status == 422 and reply.content_type == "application/problem+json", reply.body
    assert field in _fields(reply), reply.body
    assert _get(stack, token) == before
    after = _tenant(acme.id)
    assert (after.password_policy, after.session_seconds) == (
        tenant_before.password_policy,
        tenant_before.session_seconds,
    )


def test_the_default_language_may_be_one_the_organisation_added(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    made = stack.request("POST", "/api/languages", token=token, json_body={"code": "fr-FR", "name": "Français"})
    assert made.status == 201, made.body
    assert _set(stack, token, default_language="fr-FR")["default_language"] == "fr-FR"
    # And the languages function then refuses to switch it off
    body = {"enabled": False, "version": made.json()["version"]}
    refused = stack.request("PUT", "/api/languages/fr-FR", token=token, json_body=body)
    assert refused.status == 409


# -- permissions and tenancy -------------------------------------------------------------------
def test_each_route_needs_its_permission(stack: LocalStack, acme: TenantFixture) -> None:
    nobody = make_user(stack, acme.id, "acme", [])
    viewer = make_user(stack, acme.id, "acme", [seed_role(acme.id, ["site.view"])])
    upload = {"kind": "logo", "content_type": "image/png"}
    # A member without site.view reads nothing; one with it reads, but changes and uploads nothing
    assert stack.request("GET", "/api/site-settings", token=nobody["token"]).status == 403
    assert stack.request("GET", "/api/site-settings", token=viewer["token"]).status == 200
    for person in (nobody, viewer):
        put = _put(stack, person["token"], {"version": 0, "system_name": "Mine"})
        assert put.status == 403 and put.json()["type"] == "/problems/forbidden"
        posted = stack.request("POST", "/api/site-settings/uploads", token=person["token"], json_body=upload)
        assert posted.status == 403
    assert _get(stack, acme.admin_token)["system_name"] != "Mine"
    # And without a token only the public configuration answers
    assert stack.request("GET", "/api/site-settings").status == 401
    assert _public(stack, "acme").status == 200


def test_one_organisation_neither_sees_nor_changes_anothers_settings(
    stack: LocalStack, fresh_tenant: TenantFixture, globex: TenantFixture
) -> None:
    a, b = fresh_tenant, globex
    logo = _upload(stack, a.admin_token, "logo", PNG)
    _set(stack, a.admin_token, system_name="Alpha Portal", primary_color="#aa0000", logo_key=logo)
    # Then B's admin reads B's own settings, never A's
    seen = _get(stack, b.admin_token)
    assert seen["system_name"] != "Alpha Portal" and seen["logo_key"] != logo
    # And cannot make A's upload B's logo (the key is not under B's prefix)
    refused = _put(stack, b.admin_token, {"version": seen["version"], "logo_key": logo})
    assert refused.status == 422 and _fields(refused) == {"logo_key"}
    # And B's change leaves A's settings as they were
    _set(stack, b.admin_token, system_name="Globex Portal")
    assert _get(stack, a.admin_token)["system_name"] == "Alpha Portal"
    # And each public configuration shows its own organisation's branding only
    alpha, globex_config = _public(stack, a.code).json(), _public(stack, b.code).json()
    assert (alpha["system_name"], alpha["primary_color"], alpha["tenant"]) == ("Alpha Portal", "#aa0000", a.code)
    assert alpha["logo_url"] and logo in alpha["logo_url"]
    assert globex_config["system_name"] == "Globex Portal" and (globex_config["logo_url"] or "").find(a.id) == -1


def test_the_platform_keeps_the_defaults(stack: LocalStack, operator_token: str) -> None:
    assert _get(stack, operator_token)["version"] == 0
    refused = _put(stack, operator_token, {"version": 0, "system_name": "Platform"})
    assert refused.status == 409
    assert _public(stack, "platform").status == 404


# -- logo and favicon ----------------------------------------------------------------------------
def test_a_logo_and_favicon_go_up_through_a_presigned_post_then_the_put(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    # Given a logo and a favicon uploaded through the forms the API hands out
    logo = _upload(stack, token, "logo", PNG)
    favicon = _upload(stack, token, "favicon", PNG)
    assert logo.startswith(f"{fresh_tenant.id}/site/logo/") and favicon.startswith(f"{fresh_tenant.id}/site/favicon/")
    # When the admin makes them the organisation's
    saved = _set(stack, token, logo_key=logo, favicon_key=favicon)
    # Then they are stored by key and shown as download links that fetch the image
    assert (saved["logo_key"], saved["favicon_key"]) == (logo, favicon)
    assert requests.get(saved["logo_url"], timeout=10).content == PNG
    # And null takes the favicon away again
    assert _set(stack, token, favicon_key=None)["favicon_url"] is None


def test_an_upload_form_allows_only_the_kinds_image_types(stack: LocalStack, acme: TenantFixture) -> None:
    for body, field in [
        ({"kind": "logo", "content_type": "image/x-icon"}, "content_type"),
        ({"kind": "favicon", "content_type": "image/jpeg"}, "content_type"),
        ({"kind": "logo", "content_type": "image/svg+xml"}, "content_type"),
        ({"kind": "banner", "content_type": "image/png"}, "kind"),
    ]:
        reply = stack.request("POST", "/api/site-settings/uploads", token=acme.admin_token, json_body=body)
        assert reply.status == 422 and _fields(reply) == {field}, (body, reply.body)


def test_a_key_with_nothing_fitting_behind_it_is_refused(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    prefix = f"{fresh_tenant.id}/site/logo/"
    text, big, missing = prefix + new_id(), prefix + new_id(), prefix + new_id()
    _put_object(stack, text, b"not an image", "text/plain")
    _put_object(stack, big, PNG + b"\0" * (1024 * 1024), "image/png")
    favicon = _upload(stack, token, "favicon", PNG)
    for key in (text, big, missing, favicon, prefix + "../../" + new_id()):
        reply = _put(stack, token, {"version": _get(stack, token)["version"], "logo_key": key})
        assert reply.status == 422 and _fields(reply) == {"logo_key"}, (key, reply.body)
    assert _get(stack, token)["logo_key"] is None


# -- the public login-page configuration ---------------------------------------------------------
def test_the_public_configuration_is_cacheable_and_holds_only_the_login_page(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    _set(stack, fresh_tenant.admin_token, system_name="Cached", login_subtitle="Hello", password_policy=STRICT)
    # When anyone asks for it, without a token
    reply = _public(stack, fresh_tenant.code)
    # Then it holds what a login page shows, and says how long it may be kept
    assert reply.status == 200, reply.body
    body = reply.json()
    assert set(body) == {
        "tenant",
        "system_name",
        "logo_url",
        "favicon_url",
        "primary_color",
        "login_title",
        "login_subtitle",
        "login_footer",
        "default_language",
        "password_rules",
    }
    assert body["system_name"] == "Cached" and body["login_subtitle"] == "Hello"
    assert body["password_rules"]["min_length"] == 14 and body["password_rules"]["min_classes"] == 4
    assert fresh_tenant.id not in reply.body.decode()
    assert reply.headers["Cache-Control"] == "public, max-age=300"
    etag = reply.headers["ETag"]
    # And the same copy named in If-None-Match is a 304 without a body
    again = _public(stack, fresh_tenant.code, **{"If-None-Match": etag})
    assert again.status == 304 and again.body == b"" and again.headers["ETag"] == etag
    # Until the settings change
    _set(stack, fresh_tenant.admin_token, system_name="Changed")
    changed = _public(stack, fresh_tenant.code, **{"If-None-Match": etag})
    assert changed.status == 200 and changed.json()["system_name"] == "Changed" and changed.headers["ETag"] != etag


def test_an_unknown_or_inactive_organisation_has_no_public_configuration(
    stack: LocalStack, fresh_tenant: TenantFixture, operator_token: str
) -> None:
    for code in ("no-such-org", "x", "UPPER", "a" * 40):
        reply = _public(stack, code)
        assert reply.status == 404 and reply.content_type == "application/problem+json", (code, reply.body)
    assert _public(stack, fresh_tenant.code).status == 200
    suspended = stack.request("POST", f"/api/tenants/{fresh_tenant.id}/suspend", token=operator_token)
    assert suspended.status == 200, suspended.body
    assert _public(stack, fresh_tenant.code).status == 404


# -- sign-in obeys the policy ----------------------------------------------------------------------
def test_a_raised_policy_refuses_weak_passwords_wherever_one_is_set(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token, code = fresh_tenant.admin_token, fresh_tenant.code
    person = make_user(stack, fresh_tenant.id, code, [])
    # Given a weak password that the default policy accepts
    assert _change_password(stack, person["token"], PASSWORD, WEAK).status == 200
    assert _change_password(stack, person["token"], WEAK, PASSWORD).status == 200
    # When the admin raises the policy
    _set(stack, token, password_policy=STRICT)
    # Then it is refused on the caller's own change, an admin's reset, a new account, an invitation and a link
    own = _change_password(stack, person["token"], PASSWORD, WEAK)
    reset = stack.request(
        "POST", f"/api/users/{person['id']}/reset-password", token=token, json_body={"password": WEAK}
    )
    email = f"new-{uuid.uuid4().hex[:6]}@{code}.example"
    created = stack.request(
        "POST", "/api/users", token=token, json_body={"email": email, "name": "New", "password": WEAK}
    )
    registered = _register(stack, code, _invite(stack, fresh_tenant)["code"], password=WEAK)
    invited = f"inv-{uuid.uuid4().hex[:6]}@{code}.example"
    assert stack.request("POST", "/api/users", token=token, json_body={"email": invited, "name": "I"}).status == 201
    link = _activation_token(stack, invited)
    activated = stack.request(
        "POST", "/api/public/activate", json_body={"tenant": code, "token": link, "password": WEAK}
    )
    for reply, field in [
        (own, "new_password"),
        (reset, "password"),
        (created, "password"),
        (registered, "password"),
        (activated, "password"),
    ]:
        assert reply.status == 422 and _fields(reply) == {field}, reply.body
        assert "must mix at least 4" in reply.json()["errors"][0]["message"]
    # And the old password still signs in; a strong one passes everywhere
    assert login(stack, code, person["email"]).status == 200
    assert _change_password(stack, person["token"], PASSWORD, OTHER).status == 200
    assert _register(stack, code, _invite(stack, fresh_tenant)["code"], password=OTHER).status == 201


def test_history_refuses_a_recent_password(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    _set(stack, fresh_tenant.admin_token, password_policy={"history": 3})
    person = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])
    # Given two changes: PASSWORD -> OTHER -> THIRD
    assert _change_password(stack, person["token"], PASSWORD, OTHER).status == 200
    assert _change_password(stack, person["token"], OTHER, THIRD).status == 200
    # Then neither of the last three may be used again, by the owner or by an admin's reset
    for earlier in (PASSWORD, OTHER, THIRD):
        reply = _change_password(stack, person["token"], THIRD, earlier)
        assert reply.status == 422 and _fields(reply) == {"new_password"}, reply.body
    reset = stack.request(
        "POST",
        f"/api/users/{person['id']}/reset-password",
        token=fresh_tenant.admin_token,
        json_body={"password": PASSWORD},
    )
    assert reset.status == 422 and "last 3 passwords" in reset.json()["errors"][0]["message"]
    # And only the hashes the policy remembers are kept on the credential
    with use_scope(Scope(fresh_tenant.id)) as scope:
        credential = LoginIdentity.get(*keys.login(scope, person["email"]), consistent_read=True)
    assert len(credential.password_history or []) == 2 and credential.password_changed_at is not None
    # A fourth password frees the first again
    fourth = "Fourth-Strong-pass-99"
    assert _change_password(stack, person["token"], THIRD, fourth).status == 200
    assert _change_password(stack, person["token"], fourth, PASSWORD).status == 200


def test_an_expired_password_is_refused_after_the_check_and_changed_through_the_public_route(
    stack: LocalStack, fresh_tenant: TenantFixture, clock: Clock
) -> None:
    code = fresh_tenant.code
    _set(stack, fresh_tenant.admin_token, password_policy={"expiry_days": 30, "history": 2})
    person = make_user(stack, fresh_tenant.id, code, [])
    sessions_before = len(_sessions(fresh_tenant.id, person["id"]))
    # A password that has not expired yet is not changed through the public route
    early = _change_expired(stack, code, person["email"], PASSWORD, OTHER)
    assert early.status == 409
    # When 31 days pass
    clock.advance(days=31)
    # Then the right password is refused with password-expired and opens no session
    expired = login(stack, code, person["email"], PASSWORD)
    assert expired.status == 403 and expired.json()["type"] == "/problems/password-expired", expired.body
    assert expired.json()["title"] == "Password expired"
    assert login(stack, code, person["email"], PASSWORD, **{"Accept-Language": "zh-CN"}).json()["title"] == "密码已过期"
    assert len(_sessions(fresh_tenant.id, person["id"])) == sessions_before
    # While a wrong password is the usual 401 (the refusal tells nothing to whoever lacks the password)
    assert login(stack, code, person["email"], "Wrong-password-1").status == 401
    assert _change_expired(stack, code, person["email"], "Wrong-password-1", OTHER).status == 401
    # And the way out obeys the policy and its history
    same = _change_expired(stack, code, person["email"], PASSWORD, PASSWORD)
    assert same.status == 422 and _fields(same) == {"new_password"}
    weak = _change_expired(stack, code, person["email"], PASSWORD, "short1")
    assert weak.status == 422 and _fields(weak) == {"new_password"}
    changed = _change_expired(stack, code, person["email"], PASSWORD, OTHER)
    assert changed.status == 200, changed.body
    assert set(changed.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert claims_of(changed.json()["access_token"])["sub"] == person["id"]
    # And the sessions opened with the old password have ended (the new one lives)
    new_session = _session(fresh_tenant.id, changed.json()["access_token"])
    statuses = {s.session_id: s.status for s in _sessions(fresh_tenant.id, person["id"])}
    older = [status for session_id, status in statuses.items() if session_id != new_session.session_id]
    assert statuses[new_session.session_id] == "live" and older and set(older) <= {"revoked"}, statuses
    # Then the new password signs in, the old one no longer does
    assert login(stack, code, person["email"], OTHER).status == 200
    assert login(stack, code, person["email"], PASSWORD).status == 401
    assert [e.resource for e in _oplog(fresh_tenant.id, "user.change_expired_password")] == ["session"]


def test_a_shortened_session_length_ends_older_sessions_and_shortens_new_ones(
    stack: LocalStack, fresh_tenant: TenantFixture, clock: Clock
) -> None:
    code, email = fresh_tenant.code, fresh_tenant.admin_email
    # Given a session opened under the default length (30 days)
    old = login(stack, code, email).json()
    assert _session(fresh_tenant.id, old["access_token"]).expires_at > clock.now + timedelta(days=29)
    # When the admin shortens the session length to one hour
    _set(stack, fresh_tenant.admin_token, session_seconds=3600)
    # Then a new sign-in's session lasts an hour
    new = login(stack, code, email).json()
    expires = _session(fresh_tenant.id, new["access_token"]).expires_at
    assert abs((expires - (clock.now + timedelta(hours=1))).total_seconds()) < 5
    # And within the hour both refresh; past it, neither does (the old one by its age, not its expiry)
    clock.advance(minutes=30)
    old_refresh = stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": old["refresh_token"]})
    new_refresh = stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": new["refresh_token"]})
    assert old_refresh.status == new_refresh.status == 200
    clock.advance(minutes=31)
    for tokens in (old_refresh.json(), new_refresh.json()):
        late = stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": tokens["refresh_token"]})
        assert late.status == 401, late.body


def test_obeying_the_policy_and_session_length_costs_sign_in_no_call(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    code, email = fresh_tenant.code, fresh_tenant.admin_email
    assert login(stack, code, email).status == 200  # the tenant code is cached from here on
    with dynamodb_calls("AuthFunction") as plain:
        assert login(stack, code, email).status == 200
    _set(stack, fresh_tenant.admin_token, password_policy={**STRICT, "expiry_days": 90}, session_seconds=3600)
    with dynamodb_calls("AuthFunction") as configured:
        assert login(stack, code, email).status == 200
    # The same one BatchGetItem and one TransactWriteItems as before the tenant had a policy
    assert configured == plain and sum(configured.values()) <= 3, (plain, configured)
    assert configured["BatchGetItem"] == 1
