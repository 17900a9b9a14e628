"""Sessions and the login log: list with filters, Excel export, online users, force sign-out."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from riveredge import keys, passwords
from riveredge.clock import new_id
from riveredge.db.accounts import create_user
from riveredge.db.changes import System
from riveredge.db.models import LoginLogEntry, OperationLogEntry, Session, User
from riveredge.scope import Scope, use_scope
from riveredge.spreadsheets import XLSX_MEDIA_TYPE
from ulid import ULID

from local_stack.stack import LocalStack
from tests.integration.accounts import seed_role
from tests.integration.conftest import Account, InProcess, TenantFixture, login, make_tenant
from tests.support import PASSWORD, claims_of, dynamodb_calls, problem_without_request_id

UNKNOWN_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


# -- fixtures and helpers ----------------------------------------------------------------
@pytest.fixture
def org(stack: LocalStack, operator: Account) -> TenantFixture:
    """A tenant of this test's own (its login log and sessions hold only what the test does)."""
    return make_tenant(stack, operator, f"sess-{uuid.uuid4().hex[:10]}")


def _role(tenant_id: str, permissions: list[str]) -> str:
    """A role granting `permissions`, stored with the tenant's role index as the application stores it."""
    return seed_role(tenant_id, permissions)


def _member(stack: LocalStack, tenant: TenantFixture, permissions: list[str] | None = None) -> dict[str, Any]:
    """An active account of `tenant` holding `permissions` (through one role), signed in once."""
    scope = Scope(tenant.id)
    role_ids = {_role(tenant.id, permissions)} if permissions else None
    email = f"m-{uuid.uuid4().hex[:10]}@{tenant.code}.example"
    user = User.new(scope, new_id(), email, name="Mia Member", status="active", role_ids=role_ids)
    with use_scope(scope):
        create_user(System(scope, "test"), user, passwords.hash_password(PASSWORD))
    tokens = stack.login(tenant.code, email, PASSWORD)
    return {"id": user.user_id, "email": email, "token": tokens["access_token"], "refresh": tokens["refresh_token"]}


def _log_entry(tenant_id: str, at: datetime, email: str, *, success: bool = True, user_agent: str = "x") -> str:
    """A login-log entry written at `at` (its ULID carries that time), as sign-in writes them."""
    scope = Scope(tenant_id)
    entry_id = str(ULID.from_datetime(at))
    with use_scope(scope):
        LoginLogEntry.new(
            scope,
            entry_id,
            email=email,
            user_id=None,
            success=success,
            reason=None,
            ip="198.51.100.7",
            user_agent=user_agent,
        ).save()
    return entry_id


def _stored_session(tenant_id: str, session_id: str) -> Session:
    scope = Scope(tenant_id)
    key = keys.session(scope, session_id)
    with use_scope(scope):
        return Session.get(key.pk, key.sk, consistent_read=True)


def _oplog(tenant_id: str, action: str) -> list[OperationLogEntry]:
    scope = Scope(tenant_id)
    with use_scope(scope):
        entries = OperationLogEntry.query(keys.collection(scope, "OPLOG"), consistent_read=True)
        return [e for e in entries if isinstance(e, OperationLogEntry) and e.action == action]


def _logs(stack: LocalStack, token: str, query: str = "") -> Any:
    return stack.request("GET", f"/api/login-logs{query}", token=token)


def _export(stack: LocalStack, token: str, query: str = "") -> Any:
    return stack.request("GET", f"/api/login-logs/export{query}", token=token, headers={"Accept": XLSX_MEDIA_TYPE})


def _rows(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# -- login log ----------------------------------------------------------------------------
def test_the_login_log_lists_attempts_newest_first(stack: LocalStack, org: TenantFixture) -> None:
    # Given a failed attempt and then a successful sign-in (after the one that made the fixture)
    assert login(stack, org.code, org.admin_email, "Wrong-password-1", **{"User-Agent": "probe/2.0"}).status == 401
    assert login(stack, org.code, org.admin_email).status == 200

    # When the admin lists the login log
    reply = _logs(stack, org.admin_token)

    # Then it shows every attempt, newest first, with who, where from, what and why
    assert reply.status == 200
    items = reply.json()["items"]
    assert [(i["email"], i["success"], i["reason"]) for i in items] == [
        (org.admin_email, True, None),
        (org.admin_email, False, "bad_credentials"),
        (org.admin_email, True, None),
    ]
    failed = items[1]
    assert failed["user_id"] == claims_of(org.admin_token)["sub"]
    assert failed["ip"] == "127.0.0.1"
    assert failed["user_agent"] == "probe/2.0"
    assert failed["created_at"].endswith("Z")
    assert len(failed["id"]) == 26
    assert "next_cursor" not in reply.json() or reply.json()["next_cursor"] is None


def test_the_login_log_filters_by_outcome_email_and_user(stack: LocalStack, org: TenantFixture) -> None:
    # Given attempts of two people, one of them failed
    member = _member(stack, org)
    assert login(stack, org.code, member["email"], "Wrong-password-1").status == 401
    admin_id = claims_of(org.admin_token)["sub"]

    # When the admin filters
    failures = _logs(stack, org.admin_token, "?success=false").json()["items"]
    by_email = _logs(stack, org.admin_token, f"?email={member['email'].upper()}").json()["items"]
    by_user = _logs(stack, org.admin_token, f"?user_id={admin_id}").json()["items"]
    both = _logs(stack, org.admin_token, f"?email={member['email']}&success=true").json()["items"]

    # Then each answer holds exactly the matching entries
    assert [(i["email"], i["success"]) for i in failures] == [(member["email"], False)]
    assert {i["email"] for i in by_email} == {member["email"]} and len(by_email) == 2
    assert {i["user_id"] for i in by_user} == {admin_id}
    assert [(i["email"], i["success"]) for i in both] == [(member["email"], True)]


def test_since_and_until_are_one_query_on_the_sort_key(stack: LocalStack, org: TenantFixture) -> None:
    # Given entries in January, February and March 2025
    january = _log_entry(org.id, datetime(2025, 1, 10, tzinfo=UTC), "jan@x.example")
    february = _log_entry(org.id, datetime(2025, 2, 10, tzinfo=UTC), "feb@x.example")
    march = _log_entry(org.id, datetime(2025, 3, 10, tzinfo=UTC), "mar@x.example")

    # When the admin asks for February (one time with a zone, one without: UTC)
    with dynamodb_calls() as calls:
        reply = _logs(stack, org.admin_token, "?since=2025-02-01T00:00:00Z&until=2025-02-28T23:59:59")

    # Then only February's entry comes back, read with one Query (the range is a key condition)
    assert [i["id"] for i in reply.json()["items"]] == [february]
    assert calls["Query"] == 1
    # And open-ended ranges work too
    until_january = _logs(stack, org.admin_token, "?until=2025-01-31T23:59:59Z").json()["items"]
    assert [i["id"] for i in until_january] == [january]
    since_march = [i["id"] for i in _logs(stack, org.admin_token, "?since=2025-03-01T00:00:00%2B01:00").json()["items"]]
    assert march in since_march and february not in since_march and january not in since_march


def test_the_login_log_pages_with_a_signed_cursor(stack: LocalStack, org: TenantFixture, globex: TenantFixture) -> None:
    # Given three entries
    ids = [_log_entry(org.id, datetime(2025, 5, day, tzinfo=UTC), f"d{day}@x.example") for day in (1, 2, 3)]
    window = "since=2025-05-01T00:00:00Z&until=2025-05-31T00:00:00Z"

    # When the admin walks the log one entry at a time
    seen: list[str] = []
    cursor = None
    for _ in range(4):
        query = f"?{window}&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = _logs(stack, org.admin_token, query).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break

    # Then every entry comes once, newest first
    assert seen == list(reversed(ids))
    # And a cursor is bound to its filters and its tenant
    first = _logs(stack, org.admin_token, f"?{window}&limit=1").json()["next_cursor"]
    assert _logs(stack, org.admin_token, f"?{window}&success=true&limit=1&cursor={first}").status == 400
    assert _logs(stack, globex.admin_token, f"?{window}&limit=1&cursor={first}").status == 400


def test_another_tenants_login_log_is_not_visible(stack: LocalStack, org: TenantFixture, globex: TenantFixture) -> None:
    # Given an attempt in one tenant
    assert login(stack, org.code, org.admin_email, "Wrong-password-1").status == 401
    # When globex's admin lists (and filters by that tenant's admin email)
    reply = _logs(stack, globex.admin_token, f"?email={org.admin_email}")
    # Then nothing of the other tenant shows
    assert reply.status == 200
    assert reply.json()["items"] == []


BOTH = ("/api/login-logs", "/api/login-logs/export")
LIST = ("/api/login-logs",)


@pytest.mark.parametrize(
    ("query", "field", "paths"),
    [
        ("?since=yesterday", "since", BOTH),
        ("?until=2025-13-01T00:00:00Z", "until", BOTH),
        ("?success=maybe", "success", BOTH),
        ("?since=9999-12-31T23:00:00-05:00", "since", BOTH),
        ("?until=0001-01-01T00:00:00%2B05:00", "until", BOTH),
        ("?since=2025-02-01T00:00:00Z&until=2025-01-01T00:00:00Z", "until", BOTH),
        ("?limit=0", "limit", LIST),
        ("?limit=201", "limit", LIST),
        ("?cursor=forged.cursor", None, LIST),
    ],
)
def test_bad_login_log_parameters_are_400(
    stack: LocalStack, acme: TenantFixture, query: str, field: str | None, paths: tuple[str, ...]
) -> None:
    for path in paths:
        reply = stack.request("GET", f"{path}{query}", token=acme.admin_token)
        assert reply.status == 400, (path, query, reply.body)
        assert reply.content_type == "application/problem+json"
        if field:
            assert field in [e["field"] for e in reply.json()["errors"]]


def test_the_login_log_needs_its_permissions(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a member who may view the log but not export it, and one who may do neither
    viewer = _member(stack, acme, ["login_log.view"])
    nobody = _member(stack, acme, ["session.view"])
    # Then each gets exactly what they hold
    assert _logs(stack, viewer["token"]).status == 200
    assert _export(stack, viewer["token"]).status == 403
    assert _logs(stack, nobody["token"]).status == 403
    assert _logs(stack, nobody["token"]).json()["type"] == "/problems/forbidden"
    # And an exporter may export
    exporter = _member(stack, acme, ["login_log.export"])
    assert _export(stack, exporter["token"]).status == 200


# -- export -------------------------------------------------------------------------------
def test_the_export_is_a_workbook_with_neutralised_cells(stack: LocalStack, org: TenantFixture) -> None:
    # Given attempts whose email and user agent are formulas an attacker typed
    hostile_email = "=HYPERLINK(1)@evil.example"
    assert login(stack, org.code, hostile_email, "Wrong-password-1", **{"User-Agent": "@SUM(1+1)"}).status == 401
    assert login(stack, org.code, org.admin_email, "Wrong-password-1", **{"User-Agent": "+cmd"}).status == 401

    # When the admin exports the failures
    reply = _export(stack, org.admin_token, "?success=false")

    # Then the answer is an xlsx file to save
    assert reply.status == 200
    assert reply.content_type == XLSX_MEDIA_TYPE
    disposition = next(v for k, v in reply.headers.items() if k.lower() == "content-disposition")
    assert disposition.startswith("attachment;") and ".xlsx" in disposition
    # And read back, it holds the header and the two failures, newest first, formulas shown as text
    rows = _rows(reply.body)
    assert rows[0] == ["Time (UTC)", "Email", "User id", "Success", "Reason", "IP", "User agent"]
    assert [(r[1], r[3], r[4], r[6]) for r in rows[1:]] == [
        (org.admin_email, False, "bad_credentials", "'+cmd"),
        (f"'{hostile_email.lower()}", False, "unknown_user", "'@SUM(1+1)"),
    ]
    assert all(str(r[0]).endswith("Z") for r in rows[1:])


def test_the_export_refuses_more_rows_than_its_cap(
    stack: LocalStack, org: TenantFixture, monkeypatch: pytest.MonkeyPatch, in_process: InProcess
) -> None:
    in_process("SessionsFunction")  # the test patches its modules
    from sessions import service

    # Given a cap of two rows (10,000 in production) and three matching entries
    monkeypatch.setattr(service, "EXPORT_MAX_ROWS", 2)
    for day in (1, 2, 3):
        _log_entry(org.id, datetime(2025, 6, day, tzinfo=UTC), f"d{day}@x.example")

    # When the admin exports all of June, then only its first two days
    too_many = _export(stack, org.admin_token, "?since=2025-06-01T00:00:00Z&until=2025-06-30T00:00:00Z")
    narrower = _export(stack, org.admin_token, "?since=2025-06-01T00:00:00Z&until=2025-06-02T23:00:00Z")

    # Then the first is refused with a hint to narrow the range, the second is a workbook
    assert too_many.status == 422
    assert too_many.content_type == "application/problem+json"
    assert [e["field"] for e in too_many.json()["errors"]] == ["since"]
    assert "narrow" in too_many.json()["detail"]
    assert narrower.status == 200
    assert [r[1] for r in _rows(narrower.body)[1:]] == ["d2@x.example", "d1@x.example"]


# -- online users -------------------------------------------------------------------------
def test_online_users_lists_live_sessions_with_their_users(stack: LocalStack, org: TenantFixture) -> None:
    # Given a member signed in twice, one of those sessions revoked, and an expired session
    member = _member(stack, org)
    second = stack.login(org.code, member["email"], PASSWORD)
    ended = claims_of(second["access_token"])["sid"]
    assert stack.request("POST", f"/api/sessions/{ended}/revoke", token=org.admin_token).status == 200
    scope = Scope(org.id)
    with use_scope(scope):
        stale = Session.new(
            scope,
            new_id(),
            member["id"],
            refresh_digest="x",
            status="live",
            expires_at=datetime.now(UTC) - timedelta(1),
        )
        stale.save()

    # When the admin lists online users
    with dynamodb_calls() as calls:
        reply = stack.request("GET", "/api/online-users", token=org.admin_token)

    # Then the live sessions show with their users, the caller's own marked current
    assert reply.status == 200
    items = {i["id"]: i for i in reply.json()["items"]}
    admin_session = claims_of(org.admin_token)["sid"]
    member_session = claims_of(member["token"])["sid"]
    assert set(items) == {admin_session, member_session}
    assert items[member_session]["email"] == member["email"]
    assert items[member_session]["name"] == "Mia Member"
    assert items[member_session]["user_id"] == member["id"]
    assert items[member_session]["ip"] == "127.0.0.1"
    assert items[member_session]["user_agent"] == "riveredge-tests"
    assert items[member_session]["current"] is False
    assert items[admin_session]["current"] is True
    assert items[admin_session]["email"] == org.admin_email
    # And the page cost one Query and one BatchGetItem besides the authorizer's BatchGetItem
    assert calls["Query"] == 1
    assert calls["BatchGetItem"] == 2


def test_online_users_pages_with_a_cursor(stack: LocalStack, org: TenantFixture) -> None:
    member = _member(stack, org)
    stack.login(org.code, member["email"], PASSWORD)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = stack.request(
            "GET", "/api/online-users?limit=1" + (f"&cursor={cursor}" if cursor else ""), token=org.admin_token
        ).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 3


def test_online_users_needs_session_view(stack: LocalStack, acme: TenantFixture) -> None:
    viewer = _member(stack, acme, ["session.view"])
    other = _member(stack, acme, ["login_log.view"])
    assert stack.request("GET", "/api/online-users", token=viewer["token"]).status == 200
    assert stack.request("GET", "/api/online-users", token=other["token"]).status == 403


# -- force sign-out -----------------------------------------------------------------------
def test_a_forced_sign_out_ends_the_session_on_the_next_request(stack: LocalStack, org: TenantFixture) -> None:
    # Given a member signed in on two devices, both working
    member = _member(stack, org)
    other_device = stack.login(org.code, member["email"], PASSWORD)
    session_id = claims_of(member["token"])["sid"]
    assert stack.request("GET", "/api/auth/me", token=member["token"]).status == 200

    # When the admin forces one session out
    reply = stack.request("POST", f"/api/sessions/{session_id}/revoke", token=org.admin_token)

    # Then the answer shows the session revoked for reason forced
    assert reply.status == 200
    body = reply.json()
    assert (body["id"], body["user_id"], body["status"], body["revoked_reason"]) == (
        session_id,
        member["id"],
        "revoked",
        "forced",
    )
    # And its access token is refused right away, and its refresh token too
    assert stack.request("GET", "/api/auth/me", token=member["token"]).status == 401
    refreshed = stack.request("POST", "/api/auth/refresh", json_body={"refresh_token": member["refresh"]})
    assert refreshed.status == 401
    # While the other device goes on
    assert stack.request("GET", "/api/auth/me", token=other_device["access_token"]).status == 200
    # And the stored session and the operation log say so
    assert _stored_session(org.id, session_id).status == "revoked"
    [logged] = _oplog(org.id, "session.revoke")
    assert logged.resource_id == session_id and logged.actor_id == claims_of(org.admin_token)["sub"]


def test_revoking_a_revoked_session_changes_nothing(stack: LocalStack, org: TenantFixture) -> None:
    member = _member(stack, org)
    session_id = claims_of(member["token"])["sid"]
    first = stack.request("POST", f"/api/sessions/{session_id}/revoke", token=org.admin_token)
    again = stack.request("POST", f"/api/sessions/{session_id}/revoke", token=org.admin_token)
    assert first.status == again.status == 200
    assert again.json()["status"] == "revoked"
    assert again.json()["version"] == first.json()["version"]
    assert len(_oplog(org.id, "session.revoke")) == 1


def test_another_tenants_session_is_404_and_stays_live(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    # Given a session of acme's
    member = _member(stack, acme)
    session_id = claims_of(member["token"])["sid"]

    # When globex's admin tries to end it
    reply = stack.request("POST", f"/api/sessions/{session_id}/revoke", token=globex.admin_token)

    # Then it does not exist for them (the same answer as an id that exists nowhere), and it still works
    nowhere = stack.request("POST", f"/api/sessions/{UNKNOWN_ID}/revoke", token=globex.admin_token)
    assert reply.status == nowhere.status == 404
    assert problem_without_request_id(reply.json()) == problem_without_request_id(nowhere.json())
    assert stack.request("GET", "/api/auth/me", token=member["token"]).status == 200


@pytest.mark.parametrize("session_id", ["not-an-id", "01arz3ndektsv4rrffq69g5fav", "X" * 26])
def test_a_malformed_session_id_is_404(stack: LocalStack, acme: TenantFixture, session_id: str) -> None:
    reply = stack.request("POST", f"/api/sessions/{session_id}/revoke", token=acme.admin_token)
    assert reply.status == 404
    assert reply.content_type == "application/problem+json"


def test_force_sign_out_of_a_user_ends_every_live_session(stack: LocalStack, org: TenantFixture) -> None:
    # Given a member signed in on two devices
    member = _member(stack, org)
    other_device = stack.login(org.code, member["email"], PASSWORD)

    # When the admin signs the member out everywhere
    reply = stack.request("POST", f"/api/users/{member['id']}/sessions/revoke", token=org.admin_token)

    # Then both sessions end on their next request, the admin's own goes on
    assert reply.status == 200
    assert reply.json() == {"revoked": 2}
    assert stack.request("GET", "/api/auth/me", token=member["token"]).status == 401
    assert stack.request("GET", "/api/auth/me", token=other_device["access_token"]).status == 401
    assert stack.request("GET", "/api/auth/me", token=org.admin_token).status == 200
    # And a second call finds nothing left to end
    again = stack.request("POST", f"/api/users/{member['id']}/sessions/revoke", token=org.admin_token)
    assert again.json() == {"revoked": 0}
    [logged] = _oplog(org.id, "session.revoke_user")
    assert logged.resource_id == member["id"]
    assert sorted(logged.after["session_ids"]) == sorted(
        [claims_of(member["token"])["sid"], claims_of(other_device["access_token"])["sid"]]
    )


def test_force_sign_out_of_another_tenants_user_is_404(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    member = _member(stack, acme)
    reply = stack.request("POST", f"/api/users/{member['id']}/sessions/revoke", token=globex.admin_token)
    nowhere = stack.request("POST", f"/api/users/{UNKNOWN_ID}/sessions/revoke", token=globex.admin_token)
    malformed = stack.request("POST", "/api/users/nobody/sessions/revoke", token=globex.admin_token)
    assert reply.status == nowhere.status == malformed.status == 404
    assert problem_without_request_id(reply.json()) == problem_without_request_id(nowhere.json())
    assert stack.request("GET", "/api/auth/me", token=member["token"]).status == 200


def test_force_sign_out_needs_session_revoke(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a member who may see sessions but not end them
    viewer = _member(stack, acme, ["session.view"])
    target = _member(stack, acme)
    session_id = claims_of(target["token"])["sid"]
    # Then both revocations are refused and the target stays signed in
    assert stack.request("POST", f"/api/sessions/{session_id}/revoke", token=viewer["token"]).status == 403
    assert stack.request("POST", f"/api/users/{target['id']}/sessions/revoke", token=viewer["token"]).status == 403
    assert stack.request("GET", "/api/auth/me", token=target["token"]).status == 200
    # And one who holds session.revoke may
    revoker = _member(stack, acme, ["session.revoke"])
    assert stack.request("POST", f"/api/sessions/{session_id}/revoke", token=revoker["token"]).status == 200
    assert stack.request("GET", "/api/auth/me", token=target["token"]).status == 401
