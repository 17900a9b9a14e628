"""The queued mailer: every message leaves through the queue, once, at the SES rate, with a delivery record."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from riveredge import keys, mail
from riveredge.db.models import MailDelivery, MailSuppression
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.conftest import InProcess, TenantFixture


def _address(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@people.example"


def _queue(tenant: TenantFixture, to: str, kind: str = "test") -> str:
    scope = Scope(tenant.id)
    with use_scope(scope):
        return mail.send(scope, mail.Message((to,), f"Hello {to}", "Hello", "<p>Hello</p>", kind))


def _record(tenant: TenantFixture, delivery_id: str) -> MailDelivery:
    scope = Scope(tenant.id)
    with use_scope(scope):
        key = keys.mail_delivery(scope, delivery_id)
        return MailDelivery.get(key.pk, key.sk, consistent_read=True)


def _sent_to(stack: LocalStack, address: str) -> list[dict[str, Any]]:
    return [m for m in stack.sent_mail() if address in m["to"]]


def _drain(stack: LocalStack, logical_id: str) -> list[dict[str, Any]]:
    """What a dead-letter queue holds (and empty it): each message's body and reason."""
    sqs = boto3.client("sqs")
    url = stack.resolver.refs[logical_id]
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        messages = batch.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            attributes = message.get("MessageAttributes", {})
            found.append({"body": message["Body"], "reason": attributes.get("reason", {}).get("StringValue")})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_queued_message_is_sent_and_its_delivery_record_says_so(stack: LocalStack, acme: TenantFixture) -> None:
    to = _address("sent")
    delivery_id = _queue(acme, to)
    # The request path only queued it: the record says so until the mailer has sent it
    assert _sent_to(stack, to)[0]["subject"] == f"Hello {to}"
    record = _record(acme, delivery_id)
    assert record.status == "sent" and record.ses_message_id and record.attempts == 1
    assert record.sent_at is not None
    # And the local stack lists it with its state
    listed = next(m for m in stack.mail() if m["delivery_id"] == delivery_id)
    assert listed["status"] == "sent" and listed["to"] == [to] and listed["tenant_id"] == acme.id


def test_a_throttled_send_is_retried_until_it_leaves(
    stack: LocalStack, acme: TenantFixture, in_process: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process("MailerFunction")
    from mailer import service

    original, calls = service._send, []

    def throttled_once(message: Any, delivery: Any) -> str:
        calls.append(delivery.attempt)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "SendEmail")
        return original(message, delivery)

    monkeypatch.setattr(service, "_send", throttled_once)
    to = _address("throttled")
    delivery_id = _queue(acme, to)
    # Then SES's throttling made the message come back after a back-off, and the second attempt sent it
    assert len(_sent_to(stack, to)) == 1
    assert calls == [1, 2]
    record = _record(acme, delivery_id)
    assert record.status == "sent" and record.attempts == 2 and record.error is None


def test_a_message_ses_rejects_is_failed_and_dead_lettered_with_the_reason(
    stack: LocalStack, acme: TenantFixture, in_process: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process("MailerFunction")
    from mailer import service

    def rejected(message: Any, delivery: Any) -> str:
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": "address blacklisted"}}, "SendEmail")

    monkeypatch.setattr(service, "_send", rejected)
    _drain(stack, "MailDeadLetterQueue")
    delivery_id = _queue(acme, _address("rejected"))
    stack.settle()
    record = _record(acme, delivery_id)
    assert record.status == "failed" and "MessageRejected" in str(record.error)
    dead = _drain(stack, "MailDeadLetterQueue")
    assert [json.loads(d["body"])["delivery_id"] for d in dead] == [delivery_id]
    assert "MessageRejected" in str(dead[0]["reason"])


@pytest.mark.parametrize(
    ("attributes", "body", "reason"),
    [
        ({}, {"delivery_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, "names no tenant"),
        ({"tenant_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, {"delivery_id": "x"}, "unknown tenant"),
        (None, "not json", "not JSON"),
        (None, {"delivery_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "to": []}, "to: List should have at least 1 item"),
    ],
)
def test_a_poisoned_message_reaches_the_dead_letter_queue_with_its_reason(
    stack: LocalStack, acme: TenantFixture, attributes: dict[str, str] | None, body: Any, reason: str
) -> None:
    _drain(stack, "MailDeadLetterQueue")
    attributes = {"tenant_id": acme.id} if attributes is None else attributes
    boto3.client("sqs").send_message(
        QueueUrl=stack.resolver.refs["MailQueue"],
        MessageBody=body if isinstance(body, str) else json.dumps(body),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )
    stack.settle()
    dead = _drain(stack, "MailDeadLetterQueue")
    assert len(dead) == 1 and reason in str(dead[0]["reason"]), dead


def test_the_same_message_delivered_twice_is_sent_once(stack: LocalStack, acme: TenantFixture) -> None:
    to = _address("twice")
    delivery_id = _queue(acme, to)
    assert len(_sent_to(stack, to)) == 1
    # When SQS delivers the same message again (at least once), and a copy of it arrives under a new id
    body = json.dumps(
        {"delivery_id": delivery_id, "to": [to], "subject": "s", "text": "t", "html": "h", "kind": "test"}
    )
    record = {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "2"},
        "messageAttributes": {"tenant_id": {"stringValue": acme.id, "dataType": "String"}},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:riveredge-local-mail",
    }
    for event in ({"Records": [record]}, {"Records": [record]}, {"Records": [{**record, "messageId": "m-2"}]}):
        assert stack.invoke("MailerFunction", event) == {"batchItemFailures": []}
    # Then SES got it once
    assert len(_sent_to(stack, to)) == 1


def _ses_event(detail_type: str, tenant: TenantFixture, delivery_id: str, to: str, **detail: Any) -> dict[str, Any]:
    return {
        "Source": "aws.ses",
        "DetailType": detail_type,
        "EventBusName": "default",
        "Detail": json.dumps(
            {
                "mail": {
                    "messageId": f"ses-{delivery_id}",
                    "destination": [to],
                    "tags": {
                        "tenant_id": [tenant.id],
                        "delivery_id": [delivery_id],
                        "ses:configuration-set": ["riveredge-local"],
                    },
                },
                **detail,
            }
        ),
    }


def test_a_hard_bounce_marks_the_delivery_and_suppresses_the_address_for_that_tenant_only(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    to = _address("bounce")
    delivery_id = _queue(acme, to)
    assert len(_sent_to(stack, to)) == 1
    # When SES reports a permanent bounce through the configuration set's event destination
    bounce = {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": to}]}
    event = _ses_event("Email Bounced", acme, delivery_id, to, eventType="Bounce", bounce=bounce)
    boto3.client("events").put_events(Entries=[event])
    stack.settle()
    # Then the delivery is bounced and the address suppressed in acme
    assert _record(acme, delivery_id).status == "bounced"
    with use_scope(Scope(acme.id)):
        key = keys.mail_suppression(Scope(acme.id), to)
        assert MailSuppression.get(key.pk, key.sk).reason == "bounce"
    # And acme's next mail to it is not sent, while globex still reaches it
    suppressed = _queue(acme, to)
    reached = _queue(globex, to)
    stack.settle()
    assert _record(acme, suppressed).status == "suppressed"
    assert _record(globex, reached).status == "sent"
    assert len(_sent_to(stack, to)) == 2


def test_a_delivery_event_marks_the_message_delivered(stack: LocalStack, acme: TenantFixture) -> None:
    to = _address("delivered")
    delivery_id = _queue(acme, to)
    stack.settle()
    event = _ses_event("Email Delivered", acme, delivery_id, to, eventType="Delivery", delivery={})
    boto3.client("events").put_events(Entries=[event])
    deadline = time.monotonic() + 30
    while _record(acme, delivery_id).status != "delivered" and time.monotonic() < deadline:
        stack.settle()
    assert _record(acme, delivery_id).status == "delivered"
