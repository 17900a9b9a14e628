"""The queued mailer: every message leaves through the queue, once, at the SES rate, with a delivery record."""

from __future__ import annotations

import email
import json
import time
import uuid
from email import policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from riveredge import keys, mail, unsubscribe
from riveredge.clock import new_id
from riveredge.db.config import MessageConfig
from riveredge.db.models import MailDelivery, MailSuppression, OperationLogEntry
from riveredge.errors import ValidationError
from riveredge.scope import Scope, use_scope
from riveredge.settings import get_settings

from local_stack.stack import LocalStack
from tests.integration.conftest import InProcess, TenantFixture


def _address(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@people.example"


def _queue(tenant: TenantFixture, to: str, kind: str = "test") -> str:
    scope = Scope(tenant.id)
    with use_scope(scope):
        return mail.send_raw(scope, [to], f"Hello {to}", "<p>Hello</p>", "Hello", kind=kind, category="auth")


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

    def throttled_once(message: Any, delivery: Any, *args: Any, **kwargs: Any) -> str:
        calls.append(delivery.attempt)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "SendEmail")
        return original(message, delivery, *args, **kwargs)

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

    def rejected(*args: Any, **kwargs: Any) -> str:
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


# -- MIME, senders, attachments, unsubscribe (riveredge.mail, riveredge.mime) -------------------------------------
def _mime(stack: LocalStack, address: str) -> list[EmailMessage]:
    """The mails SES accepted for `address`, parsed back with the standard email package."""
    found = []
    for sent in _sent_to(stack, address):
        parsed = email.message_from_bytes(str(sent["raw"]).encode(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        found.append(parsed)
    return found


def _parts(message: EmailMessage) -> list[tuple[str, str | None, str | None]]:
    return [(p.get_content_type(), p.get_content_charset(), p.get_filename()) for p in message.walk()]


def _today(tenant: TenantFixture) -> set[str]:
    """The ids of the tenant's delivery records of today's bucket (what a refused send must not add to)."""
    scope = Scope(tenant.id)
    with use_scope(scope):
        day = keys.ulid_day(new_id())
        return {r.delivery_id for r in MailDelivery.query(keys.mail_deliveries(scope, day), consistent_read=True)}


def _put_file(stack: LocalStack, key: str, content: bytes, content_type: str) -> None:
    boto3.client("s3").put_object(
        Bucket=stack.environment["FILES_BUCKET"], Key=key, Body=content, ContentType=content_type
    )


def test_a_template_send_is_multipart_mime_with_the_rendered_subject_and_both_bodies(
    stack: LocalStack, acme: TenantFixture
) -> None:
    to = _address("welcome")
    scope = Scope(acme.id)
    context = {"user_name": "Zhang San", "user_email": to, "login_url": "https://app.example/login?tenant=acme"}
    # When the layer sends the system template welcome_email in Chinese
    with use_scope(scope):
        delivery_id = mail.send_by_template(scope, "welcome_email", [to], context, "zh-CN")
    [message] = _mime(stack, to)
    # Then SES got one MIME message: From with the platform's display name, the rendered subject
    assert message["From"].addresses[0].display_name == "RiverEdge"
    assert message["From"].addresses[0].addr_spec == get_settings().mail_from
    assert message["Subject"] == "欢迎加入 RiverEdge"
    assert [a.addr_spec for a in message["To"].addresses] == [to]
    # multipart/alternative, text then HTML, both UTF-8, both rendered (variables in HTML escaped)
    assert _parts(message) == [
        ("multipart/alternative", None, None),
        ("text/plain", "utf-8", None),
        ("text/html", "utf-8", None),
    ]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert (
        f"您的账号 {to} 已开通" in text.get_content() and "https://app.example/login?tenant=acme" in text.get_content()
    )
    assert f"<b>{to}</b>" in html.get_content() and 'href="https://app.example/login?tenant=acme"' in html.get_content()
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in (text, html))  # 7-bit on the wire
    # A notification carries the one-click unsubscribe headers (RFC 8058)
    assert str(message["List-Unsubscribe"]).startswith("<http") and "/api/public/mail/unsubscribe?token=" in str(
        message["List-Unsubscribe"]
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # And the delivery record says which template, version, category, language, and how it went
    record = _record(acme, delivery_id)
    assert (record.template_code, record.template_id, record.template_version) == ("welcome_email", None, None)
    assert (record.category, record.language, record.test) == ("notification", "zh-CN", False)
    assert record.subject == "欢迎加入 RiverEdge" and record.sender == f"RiverEdge <{get_settings().mail_from}>"
    assert [s["status"] for s in record.history] == ["queued", "sent"] and record.status == "sent"


def test_a_raw_auth_send_with_an_attachment_and_reply_to_has_no_unsubscribe_header(
    stack: LocalStack, acme: TenantFixture
) -> None:
    to = _address("raw")
    key = f"{acme.id}/files/{uuid.uuid4().hex}/report.pdf"
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 8
    _put_file(stack, key, pdf, "application/pdf")
    scope = Scope(acme.id)
    attachment = mail.Attachment(key, "报告 2026.pdf", "application/pdf")
    with use_scope(scope):
        delivery_id = mail.send_raw(
            scope,
            [to],
            "Your report — ready",
            "<p>Your <b>report</b> is attached.</p>",
            "Your report is attached.",
            kind="report",
            category="auth",
            attachments=[attachment],
            reply_to="Help@Acme.example",
        )
    [message] = _mime(stack, to)
    assert message["Subject"] == "Your report — ready"
    assert message["Reply-To"].addresses[0].addr_spec == "Help@acme.example"  # the domain normalised
    assert "List-Unsubscribe" not in message and "List-Unsubscribe-Post" not in message  # transactional
    assert _parts(message) == [
        ("multipart/mixed", None, None),
        ("multipart/alternative", None, None),
        ("text/plain", "utf-8", None),
        ("text/html", "utf-8", None),
        ("application/pdf", None, "报告 2026.pdf"),
    ]
    [attached] = list(message.iter_attachments())
    assert attached.get_content() == pdf
    record = _record(acme, delivery_id)
    assert record.attachments == ["报告 2026.pdf"] and record.reply_to == "Help@acme.example"
    assert record.template_code is None and record.category == "auth"


def test_the_tenants_own_verified_sender_is_the_from_and_reply_to(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    scope = Scope(fresh_tenant.id)
    sender = f"news@{fresh_tenant.code}.example"
    stack.verify_email_identity(sender)
    config = mail.SenderConfig(from_email=sender, from_name="Acme 通知", reply_to=f"help@{fresh_tenant.code}.example")
    mail.check_sender(config)  # verified: no problem
    with use_scope(scope):
        MessageConfig.new(scope, "email", enabled=True, config=config.model_dump()).save()
        to = _address("own-sender")
        delivery_id = mail.send_raw(scope, [to], "From us", "<p>Hi</p>", "Hi", kind="message")
    [message] = _mime(stack, to)
    [author] = message["From"].addresses
    assert (author.display_name, author.addr_spec) == ("Acme 通知", sender)
    assert message["Reply-To"].addresses[0].addr_spec == f"help@{fresh_tenant.code}.example"
    assert _record(fresh_tenant, delivery_id).sender == str(mail.Sender(sender, "Acme 通知").formatted())
    # And a tenant whose email channel is switched off sends from the platform again
    with use_scope(scope):
        item = MessageConfig.find(keys.message_config(scope, "email"))
        assert item is not None
        item.enabled = False
        item.save()
        again = _address("own-sender-off")
        mail.send_raw(scope, [again], "From the platform", "<p>Hi</p>", "Hi", kind="message")
    assert _mime(stack, again)[0]["From"].addresses[0].addr_spec == get_settings().mail_from


def test_an_unverified_sender_is_refused_naming_the_field(stack: LocalStack) -> None:
    unverified = f"nobody-{uuid.uuid4().hex[:8]}@unverified.example"
    with pytest.raises(ValidationError) as refused:
        mail.check_sender(mail.SenderConfig(from_email=unverified))
    assert [p.field for p in refused.value.errors] == ["config.from_email"]
    # An identity that exists but is not verified yet is refused too; a verified domain covers its addresses
    boto3.client("sesv2").create_email_identity(EmailIdentity=f"pending-{uuid.uuid4().hex[:8]}@unverified.example")
    domain = f"d{uuid.uuid4().hex[:8]}.example"
    stack.verify_email_identity(domain)
    mail.check_sender(mail.SenderConfig(from_email=f"anyone@{domain}"))


def test_unsubscribing_suppresses_that_category_for_that_address_in_that_tenant_only(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    to = _address("unsubscribe")
    scope = Scope(acme.id)
    with use_scope(scope):
        mail.send_raw(scope, [to], "News", "<p>News</p>", "News", kind="digest", category="marketing")
    [message] = _mime(stack, to)
    link = str(message["List-Unsubscribe"]).strip("<>")
    path = link.split("://", 1)[1].split("/", 1)[1]
    # The link's GET only says what it stands for (a mail scanner following it unsubscribes nobody)
    shown = stack.request("GET", f"/{path}")
    assert shown.status == 200, shown.body
    assert shown.json() == {
        "email": f"{to[0]}***@people.example",
        "category": "marketing",
        "organisation": shown.json()["organisation"],
        "unsubscribed": False,
    }
    # When the mail client posts the one-click unsubscribe (RFC 8058: a form body)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answer = stack.request("POST", f"/{path}", raw_body=b"List-Unsubscribe=One-Click", headers=form)
    assert answer.status == 200 and answer.json()["unsubscribed"] is True
    assert stack.request("POST", f"/{path}", raw_body=b"List-Unsubscribe=One-Click", headers=form).status == 200
    # Then acme's next marketing mail to the address is suppressed, with the reason
    with use_scope(scope):
        suppressed = mail.send_raw(scope, [to], "More news", "<p>More</p>", "More", kind="digest", category="marketing")
        notified = mail.send_raw(scope, [to], "A notice", "<p>Notice</p>", "Notice", kind="notice")
        reset = mail.send_raw(scope, [to], "Reset", "<p>Reset</p>", "Reset", kind="password_reset", category="auth")
    with use_scope(Scope(globex.id)):
        elsewhere = mail.send_raw(
            Scope(globex.id), [to], "Globex news", "<p>News</p>", "News", kind="digest", category="marketing"
        )
    stack.settle()
    record = _record(acme, suppressed)
    assert record.status == "suppressed" and "unsubscribe from marketing mail" in str(record.error)
    assert record.history[-1]["status"] == "suppressed"
    # while other categories, and the same category of another tenant, still reach it
    assert _record(acme, notified).status == "sent" and _record(acme, reset).status == "sent"
    assert _record(globex, elsewhere).status == "sent"
    assert sorted(m["Subject"] for m in _mime(stack, to)) == ["A notice", "Globex news", "News", "Reset"]
    # And the unsubscribe is in acme's operation log
    with use_scope(scope):
        entries = OperationLogEntry.query(keys.collection(scope, "OPLOG"), consistent_read=True)
        assert [e.resource_id for e in entries if e.action == "mail.unsubscribe"] == [f"{to}#marketing"]


def test_an_altered_unsubscribe_token_is_refused(stack: LocalStack, acme: TenantFixture) -> None:
    with use_scope(Scope(acme.id)):
        token = unsubscribe.token(acme.id, "ada@acme.example", "marketing")
    payload, mac = token.split(".")
    forged = unsubscribe.token(acme.id, "ada@acme.example", "notification").split(".")[0] + "." + mac
    for bad in (forged, payload, f"{payload}.", "x" * 2000):
        answer = stack.request("POST", f"/api/public/mail/unsubscribe?token={bad}", json_body={})
        assert answer.status == 400 and answer.json()["errors"][0]["field"] == "token", answer.body
    # A token of an auth mail's category does not exist: auth mail cannot be unsubscribed from
    auth = unsubscribe.token(acme.id, "ada@acme.example", "auth")
    assert stack.request("GET", f"/api/public/mail/unsubscribe?token={auth}").status == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "Hello\r\nBcc: victim@evil.example"}, "subject"),
        ({"subject": "Hello\nBcc: victim@evil.example"}, "subject"),
        ({"to": ["ada@acme.example\r\nBcc: victim@evil.example"]}, "to[0]"),
        ({"to": ["ok@acme.example", "not an address"]}, "to[1]"),
        ({"to": []}, "to"),
        ({"reply_to": "help@acme.example\r\nBcc: victim@evil.example"}, "reply_to"),
        ({"kind": "Bad Kind"}, "kind"),
        ({"category": "spam"}, "category"),
    ],
)
def test_a_header_injection_or_bad_header_is_refused_and_nothing_is_stored(
    stack: LocalStack, acme: TenantFixture, change: dict[str, Any], field: str
) -> None:
    scope = Scope(acme.id)
    before = _today(acme)
    message: dict[str, Any] = {"to": ["ada@acme.example"], "subject": "Hello", "kind": "notice", **change}
    with use_scope(scope), pytest.raises(ValidationError) as refused:
        mail.send_raw(scope, message.pop("to"), message.pop("subject"), "<p>Hi</p>", "Hi", **message)
    assert field in [p.field for p in refused.value.errors]
    assert _today(acme) == before


def test_a_hundred_thousand_recipients_are_refused_at_once_and_nothing_is_queued(
    stack: LocalStack, acme: TenantFixture
) -> None:
    scope = Scope(acme.id)
    before = _today(acme)
    crowd = [f"person{n}@crowd.example" for n in range(100_000)]
    with use_scope(scope), pytest.raises(ValidationError) as refused:
        mail.send_by_template(
            scope, "welcome_email", crowd, {"user_email": "x@crowd.example", "login_url": "https://a"}
        )
    assert [(p.field, p.message) for p in refused.value.errors] == [
        ("to", "at most 50 recipients a message, not 100000")
    ]
    assert _today(acme) == before
    assert not [m for m in stack.sent_mail() if "person0@crowd.example" in m["to"]]


def test_an_attachment_of_another_tenant_is_refused_by_the_producer_and_by_the_mailer(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    secret = f"{globex.id}/files/{uuid.uuid4().hex}/salaries.xlsx"
    _put_file(stack, secret, b"globex only", "application/octet-stream")
    scope = Scope(acme.id)
    before = _today(acme)
    for key, field in ((secret, "attachments[0].key"), (f"{acme.id}/../{secret}", "attachments[0].key")):
        with use_scope(scope), pytest.raises(ValidationError) as refused:
            mail.send_raw(
                scope,
                ["ada@acme.example"],
                "Files",
                "<p>x</p>",
                "x",
                kind="notice",
                attachments=[mail.Attachment(key, "salaries.xlsx", "application/octet-stream")],
            )
        assert [p.field for p in refused.value.errors] == [field]
    assert _today(acme) == before
    # A message that reaches the queue anyway (not through riveredge.mail) is refused by the mailer, with the reason
    _drain(stack, "MailDeadLetterQueue")
    delivery_id = new_id()
    body = {
        "delivery_id": delivery_id,
        "to": [_address("forged")],
        "subject": "Files",
        "text": "x",
        "html": "<p>x</p>",
        "kind": "notice",
        "category": "auth",
        "attachments": [{"key": secret, "filename": "s.xlsx", "content_type": "application/octet-stream"}],
    }
    boto3.client("sqs").send_message(
        QueueUrl=stack.resolver.refs["MailQueue"],
        MessageBody=json.dumps(body),
        MessageAttributes={"tenant_id": {"DataType": "String", "StringValue": acme.id}},
    )
    stack.settle()
    record = _record(acme, delivery_id)
    assert record.status == "failed" and "is not a file of the message's organisation" in str(record.error)
    [dead] = _drain(stack, "MailDeadLetterQueue")
    assert "is not a file of the message's organisation" in str(dead["reason"])
    assert not _sent_to(stack, body["to"][0])


def test_a_retried_notification_to_several_recipients_does_not_mail_one_twice(
    stack: LocalStack, acme: TenantFixture, in_process: InProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process("MailerFunction")
    from mailer import service

    original, calls = service._send, []

    def second_throttled_once(message: Any, delivery: Any, files: Any, to: list[str], **kwargs: Any) -> str:
        calls.append(to[0])
        if len(calls) == 2:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendEmail")
        return original(message, delivery, files, to, **kwargs)

    monkeypatch.setattr(service, "_send", second_throttled_once)
    first, second = _address("first"), _address("second")
    scope = Scope(acme.id)
    with use_scope(scope):
        delivery_id = mail.send_raw(scope, [first, second], "For both", "<p>Both</p>", "Both", kind="notice")
    stack.settle()
    # Each got its own message (its own unsubscribe link), the first once although the message was retried
    assert calls == [first, second, second]
    assert len(_mime(stack, first)) == 1 and len(_mime(stack, second)) == 1
    links = {str(_mime(stack, a)[0]["List-Unsubscribe"]) for a in (first, second)}
    assert len(links) == 2
    record = _record(acme, delivery_id)
    assert record.status == "sent" and set(record.sent_to) == {first, second} and record.attempts == 2
