"""Code rules: CRUD, gap-free concurrent issuing, period resets, codes issued inside a document's transaction."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from riveredge import clock, codes, keys
from riveredge.db.changes import System, change
from riveredge.db.codes import CodeRule
from riveredge.db.models import OperationLogEntry, SiteSettings
from riveredge.errors import ConflictError
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import TenantFixture

THREADS, CALLS = 8, 50


def _rule(stack: LocalStack, token: str, **fields: Any) -> dict[str, Any]:
    body = {"code": f"r{datetime.now(UTC).strftime('%H%M%S%f')}", "name": "Invoices", "pattern": "INV-{SEQ:4}"}
    reply = stack.request("POST", "/api/code-rules", token=token, json_body=body | fields)
    assert reply.status == 201, reply.body
    made: dict[str, Any] = reply.json()
    assert reply.headers["Location"] == f"/api/code-rules/{made['id']}"
    return made


def _next(stack: LocalStack, token: str, rule_id: str, context: str | None = None) -> dict[str, Any]:
    body = {"context": context} if context else None
    reply = stack.request("POST", f"/api/code-rules/{rule_id}/next", token=token, json_body=body)
    assert reply.status == 200, reply.body
    issued: dict[str, Any] = reply.json()
    return issued


def test_a_rule_is_created_read_listed_changed_and_deleted(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    made = _rule(stack, token, code="INV", pattern="INV-{YYYY}-{SEQ:5}", reset="year", context_description="none")
    assert made["enabled"] and made["reset"] == "year" and made["version"] == 1
    path = f"/api/code-rules/{made['id']}"
    assert stack.request("GET", path, token=token).json() == made
    listed = stack.request("GET", "/api/code-rules", token=token).json()["items"]
    assert [r["id"] for r in listed] == [made["id"]]
    taken = stack.request(
        "POST", "/api/code-rules", token=token, json_body={"code": "inv", "name": "Again", "pattern": "{SEQ:2}"}
    )
    assert taken.status == 409, taken.body

    changed = stack.request("PUT", path, token=token, json_body={"name": "Sales invoices", "code": "SI", "version": 1})
    assert changed.status == 200, changed.body
    assert changed.json()["name"] == "Sales invoices" and changed.json()["version"] == 2
    stale = stack.request("PUT", path, token=token, json_body={"name": "Late", "version": 1})
    assert stale.status == 412
    if_match = stack.request("PUT", path, token=token, json_body={"name": "X", "version": 2}, headers={"If-Match": "1"})
    assert if_match.status == 412
    _rule(stack, token, code="INV")  # the old code was released

    assert stack.request("DELETE", f"{path}?version=1", token=token).status == 412
    assert stack.request("DELETE", f"{path}?version=2", token=token).status == 204
    assert stack.request("GET", path, token=token).status == 404
    _rule(stack, token, code="SI")  # released on delete

    with use_scope(Scope(fresh_tenant.id)) as scope:
        entries = [e for e in OperationLogEntry.query(keys.collection(scope, "OPLOG")) if e.resource == "code rule"]
    actions = [e.action for e in entries if e.resource_id == made["id"]]
    assert actions == ["code_rule.create", "code_rule.update", "code_rule.delete"]


@pytest.mark.parametrize(
    ("pattern", "reset"),
    [
        ("INV-{SEQ:4", "never"),
        ("INV-{NUMBER}-{SEQ:4}", "never"),
        ("INV-{YYYY}", "never"),
        ("{SEQ:2}-{SEQ:3}", "never"),
        ("{SEQ:0}", "never"),
        ("INV-{SEQ:4}", "month"),
        ("{YYYY}-{SEQ:4}", "day"),
    ],
)
def test_a_bad_pattern_is_a_422_naming_pattern(
    stack: LocalStack, acme: TenantFixture, pattern: str, reset: str
) -> None:
    body = {"code": "BAD", "name": "Bad", "pattern": pattern, "reset": reset}
    reply = stack.request("POST", "/api/code-rules", token=acme.admin_token, json_body=body)
    assert reply.status == 422, reply.body
    assert reply.content_type.startswith("application/problem+json")
    assert "pattern" in [e["field"] for e in reply.json()["errors"]]
    test = {"pattern": pattern, "reset": reset}
    tested = stack.request("POST", "/api/code-rules/test", token=acme.admin_token, json_body=test)
    assert tested.status == 422 and tested.json()["errors"][0]["field"] == "pattern"


def test_a_bad_pattern_on_update_is_a_422(stack: LocalStack, acme: TenantFixture) -> None:
    made = _rule(stack, acme.admin_token)
    for body in ({"pattern": "{SEQ}", "version": 1}, {"reset": "day", "version": 1}):
        reply = stack.request("PUT", f"/api/code-rules/{made['id']}", token=acme.admin_token, json_body=body)
        assert reply.status == 422, reply.body
        assert reply.json()["errors"][0]["field"] == "pattern"


def test_concurrent_next_calls_give_distinct_codes_without_gaps(stack: LocalStack, acme: TenantFixture) -> None:
    token = acme.admin_token
    made = _rule(stack, token, pattern="C-{SEQ:4}")

    def issue_many(_: int) -> list[dict[str, Any]]:
        return [_next(stack, token, made["id"]) for _ in range(CALLS)]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        issued = [code for batch in pool.map(issue_many, range(THREADS)) for code in batch]
    assert len({c["code"] for c in issued}) == THREADS * CALLS
    assert sorted(c["sequence"] for c in issued) == list(range(1, THREADS * CALLS + 1))
    assert {c["code"] for c in issued} == {f"C-{n:04d}" for n in range(1, THREADS * CALLS + 1)}


def test_preview_does_not_consume_and_contexts_keep_their_own_sequences(stack: LocalStack, acme: TenantFixture) -> None:
    token = acme.admin_token
    made = _rule(stack, token, pattern="{CTX}-{SEQ:3}", context_description="department code")
    preview = stack.request("POST", f"/api/code-rules/{made['id']}/preview", token=token, json_body={"context": "HR"})
    assert preview.status == 200 and preview.json()["code"] == "HR-001"
    again = stack.request("POST", f"/api/code-rules/{made['id']}/preview", token=token, json_body={"context": "HR"})
    assert again.json()["code"] == "HR-001"
    assert _next(stack, token, made["id"], "HR")["code"] == "HR-001"
    assert _next(stack, token, made["id"], "HR")["code"] == "HR-002"
    assert _next(stack, token, made["id"], "IT") == {"code": "IT-001", "sequence": 1, "period": "ALL", "context": "IT"}
    assert _next(stack, token, made["id"], "HR")["sequence"] == 3
    no_context = stack.request("POST", f"/api/code-rules/{made['id']}/next", token=token)
    assert no_context.status == 422 and no_context.json()["errors"][0]["field"] == "context"
    plain = _rule(stack, token)
    extra = stack.request("POST", f"/api/code-rules/{plain['id']}/next", token=token, json_body={"context": "HR"})
    assert extra.status == 422 and extra.json()["errors"][0]["field"] == "context"


def test_an_unsaved_pattern_is_previewed_with_sequence_one(stack: LocalStack, acme: TenantFixture) -> None:
    body = {"pattern": "PO-{YYYYMMDD}-{CTX}-{SEQ:4}", "reset": "day", "context": "WH1"}
    reply = stack.request("POST", "/api/code-rules/test", token=acme.admin_token, json_body=body)
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert answer["sequence"] == 1 and answer["code"] == f"PO-{answer['period']}-WH1-0001"


def test_a_disabled_rule_issues_nothing(stack: LocalStack, acme: TenantFixture) -> None:
    made = _rule(stack, acme.admin_token, enabled=False)
    reply = stack.request("POST", f"/api/code-rules/{made['id']}/next", token=acme.admin_token)
    assert reply.status == 409, reply.body


def test_a_new_period_starts_again_at_one(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    made = _rule(stack, fresh_tenant.admin_token, pattern="{YYYY}{MM}-{SEQ:3}", reset="month")
    with use_scope(Scope(fresh_tenant.id)) as scope:
        author = System(scope)
        january = datetime(2026, 1, 31, 12, tzinfo=UTC)
        assert codes.next_code(author, made["id"], now=january).code == "202601-001"
        assert codes.next_code(author, made["id"], now=january).code == "202601-002"
        february = datetime(2026, 2, 1, 0, 30, tzinfo=UTC)
        first = codes.next_code(author, made["id"], now=february)
        assert (first.code, first.sequence, first.period) == ("202602-001", 1, "202602")
        assert codes.next_code(author, made["id"], now=january).code == "202601-003"


def test_dates_and_periods_are_the_tenants_local_ones(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    made = _rule(stack, fresh_tenant.admin_token, pattern="{YYYYMMDD}-{SEQ:2}", reset="day")
    with use_scope(Scope(fresh_tenant.id)) as scope:
        SiteSettings.new(scope, {"time_zone": "Asia/Shanghai"}).save()
        evening = datetime(2026, 1, 31, 20, tzinfo=UTC)  # already 1 February in Shanghai
        issued = codes.next_code(System(scope), made["id"], now=evening)
    assert (issued.code, issued.period) == ("20260201-01", "20260201")


def test_the_clock_of_the_codes_module_can_be_frozen(
    stack: LocalStack, fresh_tenant: TenantFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _rule(stack, fresh_tenant.admin_token, pattern="D{YYYYMMDD}-{SEQ:2}", reset="day")
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(2030, 5, 6, 23, 59, tzinfo=UTC))
    with use_scope(Scope(fresh_tenant.id)) as scope:
        assert codes.next_code(System(scope), made["id"]).code == "D20300506-01"
        monkeypatch.setattr(clock, "utcnow", lambda: datetime(2030, 5, 7, 0, 1, tzinfo=UTC))
        assert codes.next_code(System(scope), made["id"]).code == "D20300507-01"


def test_a_failed_document_transaction_does_not_consume_a_number(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    made = _rule(stack, fresh_tenant.admin_token, pattern="DOC-{SEQ:3}")
    assert _next(stack, fresh_tenant.admin_token, made["id"])["code"] == "DOC-001"
    with use_scope(Scope(fresh_tenant.id)) as scope:
        rule = codes.rule(scope, made["id"])
        existing = CodeRule.get_or_404(keys.code_rule(scope, made["id"]))

        def document() -> codes.IssuedCode:
            with change(System(scope), "document.create") as c:
                issued = codes.issue(c, scope, rule)
                c.create(existing, conflict="the document exists already")  # fails: the item is there
            return issued

        with pytest.raises(ConflictError, match="exists already"):
            codes.retrying(document)
    assert _next(stack, fresh_tenant.admin_token, made["id"])["code"] == "DOC-002"


def test_another_tenants_rule_is_not_found(stack: LocalStack, acme: TenantFixture, globex: TenantFixture) -> None:
    made = _rule(stack, acme.admin_token)
    path = f"/api/code-rules/{made['id']}"
    token = globex.admin_token
    assert stack.request("GET", path, token=token).status == 404
    assert stack.request("PUT", path, token=token, json_body={"name": "Mine", "version": 1}).status == 404
    assert stack.request("DELETE", f"{path}?version=1", token=token).status == 404
    assert stack.request("POST", f"{path}/next", token=token).status == 404
    assert stack.request("POST", f"{path}/preview", token=token).status == 404
    assert made["id"] not in [r["id"] for r in stack.request("GET", "/api/code-rules", token=token).json()["items"]]
    assert stack.request("GET", path, token=acme.admin_token).status == 200


def test_code_rule_permissions_are_enforced(stack: LocalStack, acme: TenantFixture) -> None:
    made = _rule(stack, acme.admin_token)
    path = f"/api/code-rules/{made['id']}"
    nobody = make_user(stack, acme.id, acme.code, [seed_role(acme.id, ["user.view"])])["token"]
    viewer = make_user(stack, acme.id, acme.code, [seed_role(acme.id, ["code_rule.view"])])["token"]
    issuer = make_user(stack, acme.id, acme.code, [seed_role(acme.id, ["code_rule.issue"])])["token"]
    body = {"code": "NOPE", "name": "No", "pattern": "{SEQ:2}"}
    for token in (nobody, viewer):
        assert stack.request("POST", "/api/code-rules", token=token, json_body=body).status == 403
        assert stack.request("PUT", path, token=token, json_body={"name": "N", "version": 1}).status == 403
        assert stack.request("DELETE", f"{path}?version=1", token=token).status == 403
        assert stack.request("POST", f"{path}/next", token=token).status == 403
    assert stack.request("GET", "/api/code-rules", token=nobody).status == 403
    assert stack.request("GET", path, token=nobody).status == 403
    assert stack.request("GET", path, token=viewer).status == 200
    assert stack.request("POST", f"{path}/preview", token=viewer).json()["code"] == "INV-0001"
    assert stack.request("GET", path, token=issuer).status == 403
    assert _next(stack, issuer, made["id"])["code"] == "INV-0001"
