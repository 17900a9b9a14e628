"""Pushes: a send fans out asynchronously, page by page, to users, roles, departments or everyone; one delivery
record per recipient and channel and one inbox message per in-app recipient, however often a step is retried."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from riveredge import keys, messaging
from riveredge.clock import new_id
from riveredge.db.models import Preferences, User
from riveredge.messaging.models import MessageSend
from riveredge.scope import Scope, use_scope

from local_stack import serialise
from local_stack.stack import ACCOUNT_ID, REGION, LocalStack
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import InProcess, TenantFixture

FANOUT = "MessageFanoutFunction"


# -- helpers ------------------------------------------------------------------------------------------------
def department(stack: LocalStack, token: str, parent_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Dept", "code": f"D-{uuid.uuid4().hex[:8]}"}
    if parent_id:
        body["parent_id"] = parent_id
    reply = stack.request("POST", "/api/departments", token=token, json_body=body)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def people(
    tenant_id: str,
    count: int,
    *,
    dept: dict[str, Any] | None = None,
    role_ids: tuple[str, ...] = (),
    phone: str | None = None,
    status: str = "active",
) -> list[str]:
    """`count` accounts (no credentials: they never sign in), written as the directory stores them."""
    scope = Scope(tenant_id)
    made = [
        User.new(
            scope,
            new_id(),
            f"p-{uuid.uuid4().hex[:12]}@people.example",
            name=f"Person {i}",
            status=status,
            role_ids=set(role_ids) or None,
            phone=phone,
            department_id=dept["id"] if dept else None,
            department_path=dept["path"] if dept else None,
        )
        for i in range(count)
    ]
    with use_scope(scope), User.batch_write() as batch:
        for user in made:
            user.stamp()
            batch.save(user)
    return [u.user_id for u in made]


def send(stack: LocalStack, token: str, body: dict[str, Any], status: int = 202) -> Any:
    reply = stack.request("POST", "/api/messages/send", token=token, json_body=body)
    assert reply.status == status, reply.body
    return reply.json()


def sent(stack: LocalStack, token: str, send_id: str) -> dict[str, Any]:
    stack.settle()
    reply = stack.request("GET", f"/api/messages/{send_id}", token=token)
    assert reply.status == 200, reply.body
    return dict(reply.json())


def stored(entity: str, **wanted: str) -> list[dict[str, Any]]:
    """Every item of the table of `entity` whose attributes have the `wanted` values (read from moto, all
    tenants: what a test counts must not depend on the API it checks)."""
    from moto.dynamodb.models import dynamodb_backends

    with serialise.locked():
        table = dynamodb_backends[ACCOUNT_ID][REGION].get_table("riveredge-local")
        items = [i.to_json()["Attributes"] for i in table.all_items()]
    found = []
    for item in items:
        value = {k: next(iter(v.values())) for k, v in item.items()}
        if value.get("entity") == entity and all(value.get(k) == v for k, v in wanted.items()):
            found.append(value)
    return found


def deliveries(stack: LocalStack, token: str, send_id: str, **filters: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    while True:
        path = f"/api/messages/{send_id}/deliveries?limit=200&{query}" + (f"&cursor={cursor}" if cursor else "")
        reply = stack.request("GET", path, token=token)
        assert reply.status == 200, reply.body
        found += reply.json()["items"]
        cursor = reply.json().get("next_cursor")
        if not cursor:
            return found


def page_event(tenant_id: str, body: dict[str, Any], message_id: str | None = None) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": message_id or str(uuid.uuid4()),
                "receiptHandle": "r",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {"tenant_id": {"stringValue": tenant_id, "dataType": "String"}},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:riveredge-local-message-pages",
            }
        ]
    }


def delivery_event(tenant_id: str, body: dict[str, Any]) -> dict[str, Any]:
    event = page_event(tenant_id, body)
    event["Records"][0]["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:riveredge-local-message-deliveries"
    return event


def drain(stack: LocalStack) -> list[dict[str, Any]]:
    """What the messages' dead-letter queue holds (and empty it): each message's body and reason."""
    sqs = boto3.client("sqs")
    url = stack.resolver.refs["MessageDeadLetterQueue"]
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        if not batch.get("Messages"):
            return found
        for message in batch["Messages"]:
            reason = message.get("MessageAttributes", {}).get("reason", {}).get("StringValue")
            found.append({"body": message["Body"], "reason": reason})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def assert_exactly_once(send_id: str, user_ids: list[str], channel: str = "in_app") -> None:
    records = stored("message_delivery", send_id=send_id, channel=channel)
    assert sorted(r["user_id"] for r in records) == sorted(user_ids)
    if channel == "in_app":
        messages = stored("inbox_message", send_id=send_id)
        assert sorted(m["user_id"] for m in messages) == sorted(user_ids)


@pytest.fixture
def department_of_500(stack: LocalStack, fresh_tenant: TenantFixture) -> tuple[dict[str, Any], list[str]]:
    """A department of 300 people with a sub-department of 200."""
    token = fresh_tenant.admin_token
    top = department(stack, token)
    child = department(stack, token, top["id"])
    return top, people(fresh_tenant.id, 300, dept=top) + people(fresh_tenant.id, 200, dept=child)


# -- the fan-out --------------------------------------------------------------------------------------------
def test_a_push_to_a_department_of_500_reaches_each_person_once(
    stack: LocalStack, fresh_tenant: TenantFixture, department_of_500: tuple[dict[str, Any], list[str]]
) -> None:
    # Given a department of 300 people and its sub-department of 200, and someone disabled in it
    token = fresh_tenant.admin_token
    top, everyone = department_of_500
    people(fresh_tenant.id, 3, dept=top, status="disabled")
    # When the admin pushes an in-app message to the department and its children
    body = {
        "title": "Fire drill",
        "content": "At 3 pm, everyone <out>.",
        "recipients": {"department_ids": [top["id"]], "include_children": True},
        "channels": ["in_app"],
    }
    reply = stack.request("POST", "/api/messages/send", token=token, json_body=body)
    # Then it is accepted, and followed at its Location
    assert reply.status == 202, reply.body
    made = reply.json()
    assert reply.headers["Location"] == f"/api/messages/{made['id']}"
    assert made["status"] == "queued"
    # And once the fan-out ran, exactly 500 inbox messages and 500 delivery records exist
    result = sent(stack, token, made["id"])
    assert result["status"] == "sent" and result["recipient_count"] == 500
    assert result["counts"]["in_app"] == {"queued": 0, "delivered": 500, "failed": 0, "read": 0}
    assert_exactly_once(made["id"], everyone)
    listed = deliveries(stack, token, made["id"])
    assert len(listed) == 500 and {d["status"] for d in listed} == {"delivered"}
    # And each inbox message is what was sent, with the send's dispatch id as its message id
    inbox = stored("inbox_message", send_id=made["id"])
    assert {m["title"] for m in inbox} == {"Fire drill"} and {m["content"] for m in inbox} == {
        "At 3 pm, everyone <out>."
    }
    assert len({m["message_id"] for m in inbox}) == 1


def test_the_same_fanout_steps_retried_write_nothing_twice(
    stack: LocalStack, fresh_tenant: TenantFixture, department_of_500: tuple[dict[str, Any], list[str]]
) -> None:
    # Given a push to the department that has gone out
    token = fresh_tenant.admin_token
    top, everyone = department_of_500
    body = {"title": "Twice", "recipients": {"department_ids": [top["id"]]}, "channels": ["in_app"]}
    made = send(stack, token, body)
    assert sent(stack, token, made["id"])["status"] == "sent"
    # When every step is delivered again: the send's event, its first page (the same message and a copy
    # under a new message id) and a page from the middle
    scope = Scope(fresh_tenant.id)
    with use_scope(scope):
        item = MessageSend.get(*keys.message_send(scope, made["id"]))
    bus_event = {
        "detail-type": "message.send_requested",
        "source": "riveredge.messages",
        "detail": {"send_id": made["id"], "tenant_id": fresh_tenant.id, "event_id": new_id()},
    }
    first = page_event(fresh_tenant.id, {"send_id": made["id"], "page": 0, "start": None}, "m-first")
    for event in (bus_event, first, first, page_event(fresh_tenant.id, {"send_id": made["id"], "page": 0})):
        answer = stack.invoke(FANOUT, event)
        assert not (isinstance(answer, dict) and answer.get("batchItemFailures")), answer
    middle = stored("message_page", send_id=made["id"], page="5")
    assert middle, "the fan-out wrote a sixth page"
    stack.invoke(FANOUT, page_event(fresh_tenant.id, {"send_id": made["id"], "page": 5, "start": None}))
    stack.settle()
    # Then there are still exactly 500 of each, and the counters did not move
    assert_exactly_once(made["id"], everyone)
    again = sent(stack, token, made["id"])
    assert again["counts"]["in_app"]["delivered"] == 500 and again["recipient_count"] == 500
    with use_scope(scope):
        assert MessageSend.get(*keys.message_send(scope, made["id"])).pages == item.pages


def _fail_once(predicate: Any) -> Any:
    """A botocore before-call hook that fails the first TransactWriteItems matching `predicate` as DynamoDB
    failing (InternalServerError), and lets everything else through."""
    state = {"failed": 0}

    def hook(params: dict[str, Any], **_: Any) -> None:
        if state["failed"] == 0 and predicate(params):
            state["failed"] += 1
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "injected: the write failed"}},
                "TransactWriteItems",
            )

    return hook, state


def _writes_page(page: int) -> Any:
    marker = f"{page:06d}"

    def matches(params: dict[str, Any]) -> bool:
        body = params.get("body") or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        return "MESSAGE_PAGE#" in text and f'"{marker}"' in text

    return matches


def test_a_page_that_fails_half_way_is_retried_and_reaches_each_person_once(
    stack: LocalStack,
    fresh_tenant: TenantFixture,
    department_of_500: tuple[dict[str, Any], list[str]],
    in_process: InProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the fan-out running in this process, where DynamoDB fails page 3's transaction once, and the
    # queue refuses page 8's follow-up once after its transaction committed
    in_process(FANOUT)
    from message_fanout import repository
    from riveredge.db.base import _connection

    hook, state = _fail_once(_writes_page(3))
    client = _connection().client
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", hook)
    original, refused = repository.queue_page, []

    def queue_page(scope: Scope, send_id: str, page: int, start: Any) -> None:
        if page == 9 and not refused:
            refused.append(page)
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "SendMessageBatch")
        original(scope, send_id, page, start)

    monkeypatch.setattr(repository, "queue_page", queue_page)
    token = fresh_tenant.admin_token
    top, everyone = department_of_500
    try:
        made = send(
            stack, token, {"title": "Half", "recipients": {"department_ids": [top["id"]]}, "channels": ["in_app"]}
        )
        result = sent(stack, token, made["id"])
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", hook)
    # Then both failures happened, were retried, and everyone got the message once
    assert state["failed"] == 1 and refused == [9]
    assert result["status"] == "sent" and result["counts"]["in_app"]["delivered"] == 500
    assert_exactly_once(made["id"], everyone)


def test_a_page_that_keeps_failing_lands_in_the_dead_letter_queue_with_its_reason(
    stack: LocalStack, fresh_tenant: TenantFixture, in_process: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the fan-out in this process, where every page write fails
    in_process(FANOUT)
    from message_fanout import repository

    def broken(scope: Scope, write: Any) -> None:
        raise RuntimeError("injected: the table is gone")

    monkeypatch.setattr(repository, "write_page", broken)
    monkeypatch.setattr("message_fanout.service.MAX_PAGE_ATTEMPTS", 2)
    drain(stack)
    user_ids = people(fresh_tenant.id, 3)
    made = send(stack, fresh_tenant.admin_token, {"title": "Doomed", "recipients": {"user_ids": user_ids}})
    # Then, after its last attempt, the send is failed with the reason and the page is dead-lettered with it
    result = sent(stack, fresh_tenant.admin_token, made["id"])
    assert result["status"] == "failed" and "the table is gone" in str(result["error"])
    dead = drain(stack)
    assert len(dead) == 1 and "the table is gone" in str(dead[0]["reason"])
    assert json.loads(dead[0]["body"])["send_id"] == made["id"]
    assert stored("message_delivery", send_id=made["id"]) == []


def test_users_roles_and_departments_overlapping_reach_each_person_once(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given people named directly, members of a role, people of two departments, with overlaps everywhere
    token = fresh_tenant.admin_token
    role = seed_role(fresh_tenant.id, ["user.view"])
    a, b = department(stack, token), department(stack, token)
    child = department(stack, token, a["id"])
    named = people(fresh_tenant.id, 4, dept=a)
    members = people(fresh_tenant.id, 5, role_ids=(role,)) + people(fresh_tenant.id, 2, dept=b, role_ids=(role,))
    in_a = people(fresh_tenant.id, 3, dept=a) + people(fresh_tenant.id, 3, dept=child)
    in_b = people(fresh_tenant.id, 2, dept=b)
    elsewhere = people(fresh_tenant.id, 4)
    # When a push names them all (the child department as well as its parent), and ids of no one here
    body = {
        "title": "Overlap",
        "recipients": {
            "user_ids": [*named, members[0], new_id()],
            "role_ids": [role],
            "department_ids": [a["id"], child["id"], b["id"]],
        },
        "channels": ["in_app"],
    }
    made = send(stack, token, body)
    result = sent(stack, token, made["id"])
    # Then each of them got it once, nobody else did
    wanted = [*named, *members, *in_a, *in_b]
    assert result["recipient_count"] == len(wanted) == 19
    assert_exactly_once(made["id"], wanted)
    assert not set(elsewhere) & {r["user_id"] for r in stored("message_delivery", send_id=made["id"])}


def test_without_its_children_a_department_push_reaches_only_its_own_people(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    top = department(stack, token)
    child = department(stack, token, top["id"])
    own = people(fresh_tenant.id, 3, dept=top)
    people(fresh_tenant.id, 2, dept=child)
    body = {"title": "Own", "recipients": {"department_ids": [top["id"]], "include_children": False}}
    made = send(stack, token, {**body, "channels": ["in_app"]})
    assert sent(stack, token, made["id"])["recipient_count"] == 3
    assert_exactly_once(made["id"], own)


def test_everyone_reaches_every_active_account_of_the_tenant_only(
    stack: LocalStack, fresh_tenant: TenantFixture, acme: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    made_people = people(fresh_tenant.id, 7)
    others = people(acme.id, 2)
    admin = stored("user", email=fresh_tenant.admin_email)[0]["user_id"]
    made = send(stack, token, {"title": "All hands", "recipients": {"everyone": True}, "channels": ["in_app"]})
    assert sent(stack, token, made["id"])["status"] == "sent"
    assert_exactly_once(made["id"], [*made_people, admin])
    assert not set(others) & {m["user_id"] for m in stored("inbox_message", send_id=made["id"])}


# -- channels by preference ---------------------------------------------------------------------------------
def _sms_messages() -> dict[str, tuple[str, str]]:
    from moto.sns.models import sns_backends

    return dict(sns_backends[ACCOUNT_ID][REGION].sms_messages)


def configure(stack: LocalStack, token: str, channel: str, body: dict[str, Any]) -> dict[str, Any]:
    current = stack.request("GET", f"/api/message-configs/{channel}", token=token).json()
    reply = stack.request(
        "PUT", f"/api/message-configs/{channel}", token=token, json_body={**body, "version": current["version"]}
    )
    assert reply.status == 200, reply.body
    return dict(reply.json())


def test_without_channels_each_person_gets_the_channels_of_their_preferences(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    # Given an SMS channel, and three people: one with the default preferences (email and in-app), one who
    # wants SMS only, one who wants in-app only
    token = fresh_tenant.admin_token
    configure(stack, token, "sms", {"config": {"sender_id": "RiverEdge"}})
    default, texter, quiet = (people(fresh_tenant.id, 1, phone="+1 (555) 010-0001")[0] for _ in range(3))
    scope = Scope(fresh_tenant.id)
    with use_scope(scope):
        for user_id, wanted in ((texter, {"email": False, "in_app": False, "sms": True}), (quiet, {"email": False})):
            Preferences.new(scope, user_id, theme="system", language="en", timezone="UTC", notifications=wanted).save()
    # When a push leaves the channels to them
    made = send(
        stack, token, {"title": "Your way", "content": "Hello", "recipients": {"user_ids": [default, texter, quiet]}}
    )
    result = sent(stack, token, made["id"])
    # Then each got what they asked for
    by_user = Counter((r["user_id"], r["channel"]) for r in stored("message_delivery", send_id=made["id"]))
    assert set(by_user) == {(default, "in_app"), (default, "email"), (texter, "sms"), (quiet, "in_app")}
    assert max(by_user.values()) == 1
    assert result["counts"]["sms"]["delivered"] == 1 and result["counts"]["in_app"]["delivered"] == 2
    # And the SMS went out through SNS to the person's number in E.164, with the sender id
    texts = [m for m in _sms_messages().values() if m[1] == "Your way: Hello"]
    assert texts == [("+15550100001", "Your way: Hello")]
    # And the mail went out through the mail service to the person with the default preferences only
    mail = [m for m in stack.sent_mail() if m["subject"] == "Your way"]
    emails = {r["user_id"]: r["address"] for r in stored("message_delivery", send_id=made["id"], channel="email")}
    assert [m["to"] for m in mail] == [[emails[default]]]


def test_an_sms_to_someone_without_a_phone_number_is_a_failed_delivery_with_the_reason(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    configure(stack, token, "sms", {"config": {}})
    nobody = people(fresh_tenant.id, 1)[0]
    made = send(stack, token, {"title": "No phone", "recipients": {"user_ids": [nobody]}, "channels": ["sms"]})
    assert sent(stack, token, made["id"])["counts"]["sms"]["failed"] == 1
    (record,) = deliveries(stack, token, made["id"])
    assert record["status"] == "failed" and "phone" in str(record["error"])


# -- read receipts ----------------------------------------------------------------------------------------------
def test_reading_the_inbox_message_makes_the_delivery_read_once(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    # Given a push to someone who signs in, and to someone else
    token = fresh_tenant.admin_token
    reader = make_user(stack, fresh_tenant.id, fresh_tenant.code, [])
    other = people(fresh_tenant.id, 1)[0]
    body = {"title": "Read me", "recipients": {"user_ids": [reader["id"], other]}, "channels": ["in_app"]}
    made = send(stack, token, body)
    sent(stack, token, made["id"])
    # When the reader opens it in their inbox (H4's route), twice
    mine = stack.request("GET", "/api/me/messages", token=reader["token"]).json()["items"]
    (message,) = [m for m in mine if m["send_id"] == made["id"]]
    for _ in range(2):
        reply = stack.request("POST", f"/api/me/messages/{message['id']}/read", token=reader["token"])
        assert reply.status == 200, reply.body
    # Then the send counts one read, once; the reader's delivery record says read, the other's delivered
    result = sent(stack, token, made["id"])
    assert result["counts"]["in_app"] == {"queued": 0, "delivered": 1, "failed": 0, "read": 1}
    statuses = {d["user_id"]: d["status"] for d in deliveries(stack, token, made["id"])}
    assert statuses == {reader["id"]: "read", other: "delivered"}
    # And the layer's receipt skips what is read already, sends with no such delivery, and repeats
    scope = Scope(fresh_tenant.id)
    with use_scope(scope):
        assert messaging.mark_read(scope, reader["id"], [made["id"], new_id()]) == 0
        assert messaging.mark_read(scope, other, [made["id"], made["id"]]) == 1
    assert sent(stack, token, made["id"])["counts"]["in_app"]["read"] == 2


# -- scheduled sends ------------------------------------------------------------------------------------------------
def _schedule(stack: LocalStack, send_id: str) -> dict[str, Any] | None:
    try:
        return dict(boto3.client("scheduler").get_schedule(Name=messaging.schedule_name(send_id)))
    except ClientError:
        return None


def test_a_send_for_later_goes_out_when_its_schedule_fires(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    # Given a push for in ten minutes
    token = fresh_tenant.admin_token
    person = people(fresh_tenant.id, 1)[0]
    at = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    body = {"title": "Later", "recipients": {"user_ids": [person]}, "channels": ["in_app"], "send_at": at.isoformat()}
    made = send(stack, token, body)
    assert made["status"] == "scheduled" and made["send_at"].startswith(at.strftime("%Y-%m-%dT%H:%M:%S"))
    stack.settle()
    # Then a one-time schedule waits for it, and nothing went out yet
    schedule = _schedule(stack, made["id"])
    assert schedule is not None
    assert schedule["ScheduleExpression"] == f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert json.loads(schedule["Target"]["Input"])["payload"] == {"send_id": made["id"]}
    assert stored("inbox_message", send_id=made["id"]) == []
    # When it fires (the scheduler invokes the fan-out with its input)
    stack.scheduler.fire(messaging.schedule_name(made["id"]))
    # Then it went out, and its schedule is gone
    assert sent(stack, token, made["id"])["status"] == "sent"
    assert_exactly_once(made["id"], [person])
    assert _schedule(stack, made["id"]) is None


def test_a_cancelled_send_for_later_never_goes_out(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    person = people(fresh_tenant.id, 1)[0]
    at = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    made = send(stack, token, {"title": "Never", "recipients": {"user_ids": [person]}, "send_at": at})
    stack.settle()
    schedule = _schedule(stack, made["id"])
    assert schedule is not None
    # When it is cancelled
    reply = stack.request("POST", f"/api/messages/{made['id']}/cancel", token=token)
    assert reply.status == 200 and reply.json()["status"] == "cancelled" and reply.json()["cancelled_at"]
    # Then its schedule is gone, a second cancel is a conflict, and a late firing does nothing
    assert _schedule(stack, made["id"]) is None
    assert stack.request("POST", f"/api/messages/{made['id']}/cancel", token=token).status == 409
    firing = json.loads(
        schedule["Target"]["Input"]
        .replace("<aws.scheduler.schedule-arn>", "arn:x")
        .replace("<aws.scheduler.scheduled-time>", "2030-01-01T00:00:00Z")
        .replace("<aws.scheduler.attempt-number>", "1")
    )
    stack.invoke(FANOUT, firing)
    stack.settle()
    assert sent(stack, token, made["id"])["status"] == "cancelled"
    assert stored("message_delivery", send_id=made["id"]) == []


def test_a_send_that_went_out_cannot_be_cancelled(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    made = send(
        stack, token, {"title": "Gone", "recipients": {"user_ids": people(fresh_tenant.id, 1)}, "channels": ["in_app"]}
    )
    sent(stack, token, made["id"])
    assert stack.request("POST", f"/api/messages/{made['id']}/cancel", token=token).status == 409
