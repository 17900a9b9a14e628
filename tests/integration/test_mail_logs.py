"""The mail log: delivery records in day buckets, listed newest first with filters, one with its history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from riveredge import keys, mail
from riveredge.clock import iso, utcnow
from riveredge.db.models import MailDelivery
from riveredge.scope import Scope, use_scope
from ulid import ULID

from local_stack.stack import LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import TenantFixture


def _address(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@people.example"


def _send(tenant: TenantFixture, to: str, **options: Any) -> str:
    scope = Scope(tenant.id)
    with use_scope(scope):
        return mail.send_raw(scope, [to], f"Hello {to}", "<p>Hello</p>", "Hello", **{"kind": "notice", **options})


def _stored_at(tenant: TenantFixture, moment: datetime, to: str, **attributes: Any) -> str:
    """A delivery record queued at `moment` (an older day's bucket), stored as the producer stores one."""
    scope = Scope(tenant.id)
    delivery_id = str(ULID.from_datetime(moment))
    record = MailDelivery.new(
        scope,
        delivery_id,
        kind="notice",
        category="notification",
        recipients={to},
        subject=f"Old news for {to}",
        status="delivered",
        history=[{"status": "queued", "at": iso(moment)}, {"status": "delivered", "at": iso(moment)}],
        **attributes,
    )
    record.created_at = moment
    with use_scope(scope):
        record.save()
    return delivery_id


def _list(stack: LocalStack, tenant: TenantFixture, query: str = "", token: str | None = None) -> Any:
    return stack.request("GET", f"/api/mail-logs{query}", token=token or tenant.admin_token)


def test_a_record_is_in_the_bucket_of_its_ids_day_and_found_by_id_alone(acme: TenantFixture) -> None:
    moment = datetime(2026, 3, 4, 23, 59, 59, 999_000, tzinfo=UTC)
    delivery_id = str(ULID.from_datetime(moment))
    key = keys.mail_delivery(Scope(acme.id), delivery_id)
    assert key.pk == f"T#{acme.id}#MAIL_DELIVERY#2026-03-04" and key.sk == delivery_id
    assert keys.mail_delivery(Scope(acme.id), str(ULID.from_datetime(moment + timedelta(milliseconds=1)))).pk.endswith(
        "#2026-03-05"
    )
    with pytest.raises(ValueError, match="not a ULID"):
        keys.mail_delivery(Scope(acme.id), "not-a-ulid")


def test_the_log_lists_the_organisations_records_newest_first_with_their_rendered_subjects(
    stack: LocalStack, acme: TenantFixture
) -> None:
    to = _address("listed")
    first, second = _send(acme, to), _send(acme, to, kind="digest", category="marketing")
    stack.settle()
    answer = _list(stack, acme, f"?recipient={to}")
    assert answer.status == 200, answer.body
    items = answer.json()["items"]
    assert [i["id"] for i in items] == [second, first]
    assert items[0]["subject"] == f"Hello {to}" and items[0]["recipients"] == [to]
    assert items[0]["category"] == "marketing" and items[0]["status"] == "sent" and items[0]["test"] is False
    assert items[0]["sender"] == f"RiverEdge <{mail.get_settings().mail_from}>"
    assert "history" not in items[0]  # the list is light; one record has its history


def test_one_record_shows_its_subject_recipients_status_history_and_error(
    stack: LocalStack, acme: TenantFixture
) -> None:
    to = _address("one")
    scope = Scope(acme.id)
    with use_scope(scope):
        delivery_id = mail.send_by_template(
            scope,
            "welcome_email",
            [to],
            {"user_name": "Ada", "user_email": to, "login_url": "https://app.example/login"},
            "en-US",
            test=True,
        )
    stack.settle()
    answer = stack.request("GET", f"/api/mail-logs/{delivery_id}", token=acme.admin_token)
    assert answer.status == 200, answer.body
    record = answer.json()
    assert record["subject"] == "Welcome to RiverEdge" and record["recipients"] == [to]
    assert (record["template_code"], record["template_id"], record["template_version"]) == ("welcome_email", None, None)
    assert record["test"] is True and record["language"] == "en-US" and record["error"] is None
    assert [s["status"] for s in record["history"]] == ["queued", "sent"]
    assert record["ses_message_id"] and record["sent_at"] and record["queued_at"]


def test_filters_narrow_the_log(stack: LocalStack, acme: TenantFixture) -> None:
    to = _address("filtered")
    scope = Scope(acme.id)
    with use_scope(scope):
        welcome = mail.send_by_template(
            scope, "welcome_email", [to], {"user_email": to, "login_url": "https://app.example/login"}, test=True
        )
    notice = _send(acme, to)
    stack.settle()

    def ids(query: str) -> list[str]:
        answer = _list(stack, acme, f"?recipient={to}&{query}")
        assert answer.status == 200, answer.body
        return [i["id"] for i in answer.json()["items"]]

    assert ids("template=welcome_email") == [welcome]
    assert ids("test=true") == [welcome] and ids("test=false") == [notice]
    assert ids("status=sent") == [notice, welcome] and ids("status=bounced") == []
    assert ids("category=notification") == [notice, welcome]
    assert ids(f"since={iso(utcnow() + timedelta(minutes=5))}") == []
    assert ids(f"until={iso(utcnow() - timedelta(days=1))}") == []


def test_pages_follow_the_cursor_across_day_buckets(stack: LocalStack, acme: TenantFixture) -> None:
    to = _address("paged")
    now = utcnow()
    old = [_stored_at(acme, now - timedelta(days=d, hours=1), to) for d in (2, 35)]
    fresh = [_send(acme, to) for _ in range(3)]
    stack.settle()
    since = iso(now - timedelta(days=40))
    seen: list[str] = []
    pages, cursor = 0, None
    while True:
        query = f"?recipient={to}&since={since}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        answer = _list(stack, acme, query)
        assert answer.status == 200, answer.body
        seen += [i["id"] for i in answer.json()["items"]]
        cursor, pages = answer.json().get("next_cursor"), pages + 1
        if not cursor:
            break
        assert pages < 10
    # Every record once, newest first, across today's bucket and the older days'
    assert seen == [*reversed(fresh), *old]
    # One found by id in its old bucket
    assert stack.request("GET", f"/api/mail-logs/{old[1]}", token=acme.admin_token).json()["status"] == "delivered"


def test_a_page_reads_at_most_a_month_of_days_and_says_where_to_go_on(stack: LocalStack, acme: TenantFixture) -> None:
    to = _address("sparse")
    now = utcnow()
    old = _stored_at(acme, now - timedelta(days=50), to)
    since = iso(now - timedelta(days=60))
    first = _list(stack, acme, f"?recipient={to}&since={since}")
    assert first.status == 200 and first.json()["items"] == [] and first.json()["next_cursor"]
    second = _list(stack, acme, f"?recipient={to}&since={since}&cursor={first.json()['next_cursor']}")
    assert [i["id"] for i in second.json()["items"]] == [old] and not second.json().get("next_cursor")


def test_another_organisations_records_are_not_there(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    to = _address("tenancy")
    theirs = _send(globex, to)
    stack.settle()
    assert stack.request("GET", f"/api/mail-logs/{theirs}", token=acme.admin_token).status == 404
    assert _list(stack, acme, f"?recipient={to}").json()["items"] == []
    assert [i["id"] for i in _list(stack, globex, f"?recipient={to}").json()["items"]] == [theirs]


@pytest.mark.parametrize("delivery_id", ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-a-ulid", "0" * 26])
def test_an_unknown_or_malformed_id_is_not_found(stack: LocalStack, acme: TenantFixture, delivery_id: str) -> None:
    answer = stack.request("GET", f"/api/mail-logs/{delivery_id}", token=acme.admin_token)
    assert answer.status == 404 and answer.headers["Content-Type"] == "application/problem+json"


def test_the_log_needs_its_permission(stack: LocalStack, acme: TenantFixture) -> None:
    delivery_id = _send(acme, _address("permission"))
    stack.settle()
    nobody = make_user(stack, acme.id, acme.code, [])
    assert _list(stack, acme, token=nobody["token"]).status == 403
    assert stack.request("GET", f"/api/mail-logs/{delivery_id}", token=nobody["token"]).status == 403
    viewer = make_user(stack, acme.id, acme.code, [seed_role(acme.id, {"mail.log"})])
    assert _list(stack, acme, token=viewer["token"]).status == 200
    assert stack.request("GET", f"/api/mail-logs/{delivery_id}", token=viewer["token"]).status == 200
    assert stack.request("GET", "/api/mail-logs").status == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=lost", "status"),
        ("?category=spam", "category"),
        ("?since=yesterday", "since"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?test=maybe", "test"),
        ("?template=Bad%20Code", "template"),
        ("?recipient=not-an-address", "recipient"),
        ("?cursor=forged.cursor", "cursor"),
        ("?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
    ],
)
def test_bad_query_parameters_are_a_400_naming_them(
    stack: LocalStack, acme: TenantFixture, query: str, field: str
) -> None:
    answer = _list(stack, acme, query)
    assert answer.status == 400, answer.body
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert field in str(answer.json().get("errors") or answer.json()), answer.body
