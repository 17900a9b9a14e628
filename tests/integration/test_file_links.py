"""File links: a file's preview link (our rendering, or kkFileView by its documented contract) and share links
(password, expiry, download limit, mail), through the gateway and the real handlers."""

from __future__ import annotations

import base64
import secrets
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from riveredge import keys
from riveredge.clock import new_id
from riveredge.db.changes import System, change
from riveredge.db.file_shares import FileShare
from riveredge.db.files import FileSettings
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack, Reply
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import TenantFixture
from tests.integration.stored_files import DOCX, reread, stored_file, uploaded_file
from tests.support import problem_without_request_id

KKFILEVIEW = "https://kk.example.com/preview/"
CONTENT = b"the quarterly numbers\n" * 50


# -- helpers ---------------------------------------------------------------------------------------------
def _file(stack: LocalStack, tenant: TenantFixture, name: str = "Q3 report.txt", **kwargs: Any) -> str:
    item = stored_file(stack, tenant.id, CONTENT, "text/plain", name, announce=False, **kwargs)
    return item.file_id


def _share(stack: LocalStack, token: str, file_id: str, **body: Any) -> dict[str, Any]:
    reply = stack.request("POST", f"/api/files/{file_id}/shares", token=token, json_body=body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def _open(stack: LocalStack, token: str) -> Reply:
    return stack.request("GET", f"/api/public/shares/{token}")


def _post(stack: LocalStack, token: str, body: Any = None, form: str | None = None) -> Reply:
    if form is not None:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return stack.request("POST", f"/api/public/shares/{token}", raw_body=form.encode(), headers=headers)
    return stack.request("POST", f"/api/public/shares/{token}", json_body=body)


def _fetch(url: str) -> requests.Response:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer


def _stored_share(tenant_id: str, file_id: str, share_id: str) -> FileShare:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return FileShare.get_or_404(keys.file_share(scope, file_id, share_id))


def _set_kkfileview(tenant_id: str, base_url: str | None) -> None:
    scope = Scope(tenant_id)
    with use_scope(scope):
        current = FileSettings.find(keys.file_settings(scope))
        settings = current or FileSettings.defaults(scope)
        settings.kkfileview_base_url = base_url
        with change(System(scope, "test"), "file.settings.update", settings, before=settings.snapshot()) as c:
            if current is None:
                c.create(settings, conflict="the settings exist")
            else:
                c.save(settings)


def _fields(reply: Reply) -> set[str]:
    return {e["field"] for e in reply.json().get("errors", [])}


# -- previews ----------------------------------------------------------------------------------------------
def test_an_office_file_previews_through_kkfileview_by_its_documented_contract(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given an organisation whose file settings name its kkFileView, and a stored Word document
    _set_kkfileview(fresh_tenant.id, KKFILEVIEW)
    document = b"PK\x03\x04 a docx, never opened by us"
    item = stored_file(stack, fresh_tenant.id, document, DOCX, "Letter to Zoë & Co.docx", announce=False)
    # When its preview is asked for
    reply = stack.request("GET", f"/api/files/{item.file_id}/preview", token=fresh_tenant.admin_token)
    # Then it is a kkFileView link: {base}/onlinePreview?url= + encodeURIComponent(Base64.encode(url))
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert (answer["kind"], answer["status"], answer["expires_in"]) == ("kkfileview", "ready", 300)
    prefix = "https://kk.example.com/preview/onlinePreview?url="
    assert answer["url"].startswith(prefix)
    encoded = answer["url"][len(prefix) :]
    assert set(encoded) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%")  # all escaped
    source = base64.b64decode(unquote(encoded), validate=True).decode("utf-8")  # standard Base64, as kkFileView
    # And the URL names the file by its id and digest with the original extension, as its last parameter
    # (what kkFileView reads the type from, and strips before it downloads)
    signed, _, named = source.rpartition("&")
    assert named == f"fullfilename={item.file_id}-{str(item.sha256)[:16]}.docx"
    # And what kkFileView then fetches is a short-lived presigned GET of that one object
    parts = urlsplit(signed)
    assert parts.path.endswith(f"/{item.object_key}")
    assert parse_qs(parts.query)["X-Amz-Expires"] == ["300"]
    assert _fetch(signed).content == document


def test_a_file_that_is_not_ready_has_no_preview_and_cannot_be_shared(stack: LocalStack, acme: TenantFixture) -> None:
    file_id = _file(stack, acme, status="quarantined")
    preview = stack.request("GET", f"/api/files/{file_id}/preview", token=acme.admin_token)
    shared = stack.request("POST", f"/api/files/{file_id}/shares", token=acme.admin_token, json_body={})
    assert (preview.status, shared.status) == (409, 409)
    assert "quarantined" in preview.json()["detail"] and "quarantined" in shared.json()["detail"]
    assert stack.request("GET", f"/api/files/{file_id}/shares", token=acme.admin_token).json()["items"] == []


# -- share links -------------------------------------------------------------------------------------------
def test_a_share_link_redirects_to_the_file_under_its_original_name(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a stored file
    file_id = _file(stack, acme, name="Q3 report \u2013 final.txt")
    # When a link is made of it
    reply = stack.request("POST", f"/api/files/{file_id}/shares", token=acme.admin_token, json_body={})
    # Then it answers the link once, with its token; the stored link keeps only a digest of the secret
    assert reply.status == 201, reply.body
    made = reply.json()
    assert reply.headers["Location"] == f"/api/files/{file_id}/shares/{made['id']}"
    assert made["url"].endswith(f"/api/public/shares/{made['token']}")
    assert (made["state"], made["downloads"], made["password_protected"]) == ("active", 0, False)
    stored = _stored_share(acme.id, file_id, made["id"])
    secret = made["token"].rsplit(".", 1)[1]
    assert secret not in str(stored.attribute_values) and len(stored.token_digest) == 64
    listed = stack.request("GET", f"/api/files/{file_id}/shares", token=acme.admin_token).json()["items"]
    assert [s["id"] for s in listed] == [made["id"]] and "token" not in listed[0]
    # And anyone holding it is redirected to a presigned GET of the file, as an attachment under its name
    opened = _open(stack, made["token"])
    assert opened.status == 302, opened.body
    assert opened.headers["Cache-Control"] == "no-store"
    served = _fetch(opened.headers["Location"])
    assert served.content == CONTENT
    assert served.headers["Content-Disposition"] == (
        "attachment; filename=\"Q3 report  final.txt\"; filename*=UTF-8''Q3%20report%20%E2%80%93%20final.txt"
    )
    # And the download is counted
    again = stack.request("GET", f"/api/files/{file_id}/shares/{made['id']}", token=acme.admin_token).json()
    assert again["downloads"] == 1 and again["last_download_at"] is not None


def test_a_file_uploaded_through_the_file_manager_is_shared_as_it_was_settled(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given a file uploaded through the presigned POST and settled by the S3 consumer
    content = b"%PDF-1.4\n" + b"0" * 500
    file_id = uploaded_file(stack, fresh_tenant.admin_token, content, "application/pdf", "Minutes.pdf")["id"]
    # When a link of it is opened
    made = _share(stack, fresh_tenant.admin_token, file_id, max_downloads=1)
    opened = _open(stack, made["token"])
    # Then it redirects to the version the consumer settled, as an attachment under its name
    assert opened.status == 302, opened.body
    assert f"versionId={reread(fresh_tenant.id, file_id).object_version}" in opened.headers["Location"]
    served = _fetch(opened.headers["Location"])
    assert served.content == content and "Minutes.pdf" in served.headers["Content-Disposition"]


def test_a_password_protected_link_opens_only_with_its_password(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a link with a password
    file_id = _file(stack, acme)
    made = _share(stack, acme.admin_token, file_id, password="open sesame")
    assert made["password_protected"] is True
    token = made["token"]
    # Then its GET does not open it, and says how to
    asked = _open(stack, token)
    assert asked.status == 401 and asked.json()["type"] == "/problems/share-password-required"
    # And a wrong password, or none, is refused naming the field
    wrong = _post(stack, token, {"password": "open says me"})
    assert wrong.status == 401 and wrong.json()["type"] == "/problems/share-password-wrong"
    assert _fields(wrong) == {"password"}
    assert _post(stack, token, {}).status == 401
    # And the right one opens it: JSON answers the file's URL, a form is redirected (303) to it
    opened = _post(stack, token, {"password": "open sesame"})
    assert opened.status == 200, opened.body
    assert _fetch(opened.json()["url"]).content == CONTENT
    posted = _post(stack, token, form="password=open+sesame")
    assert posted.status == 303, posted.body
    assert _fetch(posted.headers["Location"]).content == CONTENT
    # And the password is stored as an argon2id hash only
    stored = _stored_share(acme.id, file_id, made["id"])
    assert str(stored.password_hash).startswith("$argon2id$") and "open sesame" not in str(stored.attribute_values)


def test_wrong_passwords_are_throttled_per_link(stack: LocalStack, acme: TenantFixture) -> None:
    # Given two password-protected links of one file
    file_id = _file(stack, acme)
    guessed = _share(stack, acme.admin_token, file_id, password="right-one")
    other = _share(stack, acme.admin_token, file_id, password="right-one")
    # When five wrong passwords are tried on the first
    answers = [_post(stack, guessed["token"], {"password": f"guess-{n}"}).status for n in range(5)]
    # Then those are refused, and from then on the link answers 429 even to the right password
    assert answers == [401] * 5
    throttled = _post(stack, guessed["token"], {"password": "right-one"})
    assert throttled.status == 429 and 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    assert _stored_share(acme.id, file_id, guessed["id"]).downloads == 0
    # And the other link is not affected
    assert _post(stack, other["token"], {"password": "right-one"}).status == 200


def test_an_expired_or_used_up_link_is_gone(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a link that allows one download, and another that expires
    file_id = _file(stack, acme)
    once = _share(stack, acme.admin_token, file_id, max_downloads=1)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    expiring = _share(stack, acme.admin_token, file_id, expires_at=soon)
    # (the table's TTL removes an expired link 30 days after its expiry)
    kept_until = _stored_share(acme.id, file_id, expiring["id"]).ttl
    assert kept_until is not None
    assert abs(kept_until.timestamp() - (datetime.fromisoformat(soon) + timedelta(days=30)).timestamp()) < 1
    # When the first is used, and the second's expiry passes
    assert _open(stack, once["token"]).status == 302
    scope = Scope(acme.id)
    with use_scope(scope):
        share = _stored_share(acme.id, file_id, expiring["id"])
        share.update(actions=[FileShare.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    # Then both answer 410 with the reason, and say so in the organisation's list
    used, expired = _open(stack, once["token"]), _open(stack, expiring["token"])
    assert (used.status, expired.status) == (410, 410)
    assert "used up" in used.json()["detail"] and "expired" in expired.json()["detail"]
    listed = stack.request("GET", f"/api/files/{file_id}/shares", token=acme.admin_token).json()["items"]
    assert {s["id"]: s["state"] for s in listed} == {once["id"]: "exhausted", expiring["id"]: "expired"}


def test_concurrent_downloads_never_exceed_the_limit(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a link that allows three downloads
    file_id = _file(stack, acme)
    made = _share(stack, acme.admin_token, file_id, max_downloads=3)
    barrier = threading.Barrier(12)

    def download(_: int) -> int:
        barrier.wait()
        return _open(stack, made["token"]).status

    # When twelve people open it at once
    with ThreadPoolExecutor(max_workers=12) as people:
        statuses = sorted(people.map(download, range(12)))
    # Then exactly three are redirected to the file and the others are told it is used up
    assert statuses == [302] * 3 + [410] * 9
    assert _stored_share(acme.id, file_id, made["id"]).downloads == 3


def test_a_guessed_altered_or_revoked_link_is_one_and_the_same_404(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    # Given a real link, and one of another organisation
    file_id = _file(stack, acme)
    made = _share(stack, acme.admin_token, file_id)
    tenant, _, share_id, secret = made["token"].split(".")
    theirs = _share(stack, globex.admin_token, _file(stack, globex))
    # When links are guessed, altered, moved to another organisation, or revoked
    revoked = _share(stack, acme.admin_token, file_id)
    deleted = stack.request(
        "DELETE",
        f"/api/files/{file_id}/shares/{revoked['id']}",
        token=acme.admin_token,
        headers={"If-Match": str(revoked["version"])},
    )
    assert deleted.status == 204, deleted.body
    tries = [
        f"{tenant}.{file_id}.{share_id}.{secrets.token_urlsafe(32)}",  # the right link, another secret
        f"{tenant}.{file_id}.{new_id()}.{secret}",  # the secret on another share id
        f"{globex.id}.{file_id}.{share_id}.{secret}",  # the link under another organisation
        f"{acme.id}.{theirs['token'].split('.', 1)[1]}",  # another organisation's link under this one
        revoked["token"],
        "not-a-link",
        made["token"] + "x",
    ]
    answers = [_open(stack, t) for t in tries] + [_post(stack, t, {"password": "x"}) for t in tries[:2]]
    # Then every one is the same 404, and the real link still works
    assert {a.status for a in answers} == {404}
    assert len({str(problem_without_request_id(a.json())) for a in answers}) == 1
    assert _open(stack, made["token"]).status == 302


def test_a_link_is_mailed_to_its_recipients_without_its_password(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a file and two recipients
    file_id = _file(stack, acme, name="Budget 2027.txt")
    people = [f"p-{uuid.uuid4().hex[:8]}@partner.example" for _ in range(2)]
    # When a link with a password and an expiry is made and mailed to them
    expires = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    made = _share(stack, acme.admin_token, file_id, password="pw-4-you", expires_at=expires.isoformat(), notify=people)
    assert made["notified"] == sorted(people)
    # Then each gets the file_share_notification mail with the link, and never the password
    for person in people:
        [mail] = [m for m in stack.sent_mail() if person in m["to"]]
        assert made["url"] in mail["body"] and "Budget 2027.txt" in mail["body"]
        assert "pw-4-you" not in mail["body"] and "pw-4-you" not in mail["subject"]


def test_bad_input_is_refused_naming_the_field_and_stores_nothing(stack: LocalStack, acme: TenantFixture) -> None:
    file_id = _file(stack, acme)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    cases = [
        ({"expires_at": past}, "expires_at"),
        ({"expires_at": far}, "expires_at"),
        ({"max_downloads": 0}, "max_downloads"),
        ({"password": "abc"}, "password"),
        ({"notify": ["not an address"]}, "notify.0"),
        ({"notify": ["ok@partner.example", "zo\u00eb@partner.example"]}, "notify.1"),  # SES takes no such address
        ({"token": "mine"}, "token"),
    ]
    for body, field in cases:
        reply = stack.request("POST", f"/api/files/{file_id}/shares", token=acme.admin_token, json_body=body)
        assert (reply.status, _fields(reply)) == (422, {field}), (body, reply.body)
    listed = stack.request("GET", f"/api/files/{file_id}/shares", token=acme.admin_token)
    assert listed.json()["items"] == []
    bad_cursor = stack.request("GET", f"/api/files/{file_id}/shares?cursor=forged.x", token=acme.admin_token)
    assert bad_cursor.status == 400
    for path in (f"/api/files/{'x' * 3000}/preview", "/api/files/not-an-id/shares", f"{file_id}/shares/{'y' * 3000}"):
        reply = stack.request("GET", path if path.startswith("/") else f"/api/files/{path}", token=acme.admin_token)
        assert reply.status == 404, (path[:40], reply.body)
    made = _share(stack, acme.admin_token, file_id, password="right-one")
    for body in ({"password": 42}, {"password": "right-one", "extra": 1}, [1], {"password": "x" * 129}):
        reply = _post(stack, made["token"], body)
        assert (reply.status, _fields(reply)) == (422, {"password"}), (body, reply.body)
    for raw, content_type in ((b"{", "application/json"), (b"password=\xff\xfe", "application/x-www-form-urlencoded")):
        reply = stack.request(
            "POST", f"/api/public/shares/{made['token']}", raw_body=raw, headers={"Content-Type": content_type}
        )
        assert (reply.status, _fields(reply)) == (422, {"password"}), (raw, reply.status, reply.body)


def test_another_organisations_file_is_a_404_on_every_route(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    file_id = _file(stack, acme)
    made = _share(stack, acme.admin_token, file_id)
    token = globex.admin_token
    replies = [
        stack.request("GET", f"/api/files/{file_id}/preview", token=token),
        stack.request("POST", f"/api/files/{file_id}/shares", token=token, json_body={}),
        stack.request("GET", f"/api/files/{file_id}/shares", token=token),
        stack.request("GET", f"/api/files/{file_id}/shares/{made['id']}", token=token),
        stack.request("DELETE", f"/api/files/{file_id}/shares/{made['id']}", token=token),
    ]
    assert [r.status for r in replies] == [404] * 5
    assert _open(stack, made["token"]).status == 302  # untouched


def test_every_route_needs_its_permission(stack: LocalStack, acme: TenantFixture) -> None:
    # Given someone who may view files but not share them, and someone who may do neither
    file_id = _file(stack, acme)
    made = _share(stack, acme.admin_token, file_id)
    viewer = make_user(stack, acme.id, acme.code, [seed_role(acme.id, {"file.view"})])["token"]
    nobody = make_user(stack, acme.id, acme.code, [])["token"]
    # Then the preview needs file.view, and every share route file.share
    assert stack.request("GET", f"/api/files/{file_id}/preview", token=nobody).status == 403
    assert stack.request("GET", f"/api/files/{file_id}/preview", token=viewer).status == 200
    share_routes = [
        ("POST", f"/api/files/{file_id}/shares", {}),
        ("GET", f"/api/files/{file_id}/shares", None),
        ("GET", f"/api/files/{file_id}/shares/{made['id']}", None),
        ("DELETE", f"/api/files/{file_id}/shares/{made['id']}", None),
    ]
    for method, path, body in share_routes:
        reply = stack.request(method, path, token=viewer, json_body=body)
        assert reply.status == 403 and "file.share" in reply.json()["detail"], (method, path)
    assert _open(stack, made["token"]).status == 302  # the link was not deleted


def test_a_link_to_a_file_no_longer_ready_is_gone(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a link of a file that is then deleted
    file_id = _file(stack, acme)
    made = _share(stack, acme.admin_token, file_id)
    scope = Scope(acme.id)
    with use_scope(scope):
        item = reread(acme.id, file_id)
        item.status = "deleted"
        item.save()
    # Then the link answers 410 and counts no download
    gone = _open(stack, made["token"])
    assert gone.status == 410 and "no longer available" in gone.json()["detail"]
    assert _stored_share(acme.id, file_id, made["id"]).downloads == 0
