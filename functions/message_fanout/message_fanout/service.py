"""The fan-out of a send, page by page, and its external deliveries, each once however often it is retried.

1. ``message.send_requested`` (the send's outbox event): a send for now starts (queued -> sending, its
   dispatch id minted) and its first page is queued; a send for later gets its one-time schedule, whose
   firing starts it the same way (a cancelled send's firing does nothing).
2. A page (page queue): resolve up to a page of recipients (riveredge-side :mod:`message_fanout.recipients`),
   then write in ONE transaction the page's marker (new: a page seen again is skipped whole), a delivery
   record per recipient and channel (keys from send + user + channel), the in-app inbox messages (counted
   unread) and the send's counters. After the commit: push each in-app message to its owner's open
   connections, queue the page's external deliveries, queue the next page (or mark the send sent). A page
   seen again (its marker exists) only does the after-commit part again; its deliveries are queued again by
   key, which the delivery worker makes once.
3. A delivery message (delivery queue): each delivery still queued is claimed (a condition on its record),
   sent (email through the mail service's queue, SMS through SNS, webhook signed through the SSRF guard) and
   recorded with the send's counters in one transaction. A delivery already claimed or done is skipped, so
   nothing goes out twice; one whose worker stopped mid-way (its claim older than :data:`LEASE`) is marked
   failed rather than sent again, because it may have gone out.

A page that fails is retried after a back-off (``RetryLater``); on its last attempt the send is marked failed
with the reason and the page goes to the dead-letter queue with it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from riveredge import inbox, keys, mail, realtime
from riveredge.clock import new_id, utcnow
from riveredge.consumers import Delivery, Refused, RetryLater
from riveredge.db.models import DEFAULT_NOTIFICATIONS, InboxMessage, Preferences, User
from riveredge.errors import ValidationError
from riveredge.messaging.channels import Channel, channels, phone_number, post_webhook, send_sms, webhook_secret
from riveredge.messaging.content import Message, Recipient
from riveredge.messaging.models import CHANNELS, FanoutPage, MessageDelivery, MessageSend
from riveredge.observability import logger
from riveredge.outbound import OutboundError
from riveredge.scope import Scope

from message_fanout import repository
from message_fanout.models import DeliveryMessage, PageMessage
from message_fanout.recipients import Plan
from message_fanout.repository import Outcome, PageRefused, PageWrite

TRANSACTION_ITEMS = 100  # TransactWriteItems' limit
PAGE_OVERHEAD = 2  # the page marker and the send's counters
MAX_PAGE_ATTEMPTS = 5
MAX_DELIVERY_ATTEMPTS = 3
LEASE = timedelta(minutes=2)  # twice the function's timeout: a claim this old belongs to a stopped worker
PREFERENCE_CHANNELS = ("in_app", "email", "sms")
REWRITES = 3
MAX_TITLE = 1000
MAX_CONTENT = 10_000  # an inbox message's content (a template may render more: it is cut, not refused)


def _clipped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _send(scope: Scope, send_id: str) -> MessageSend:
    found = repository.find_send(scope, send_id)
    if found is None:
        raise Refused(f"the tenant has no send {send_id}")
    return found


# -- starting ----------------------------------------------------------------------------------------------------
def requested(scope: Scope, send_id: str) -> None:
    """A new send: start it now, or schedule it."""
    send = _send(scope, send_id)
    if send.status == "scheduled" and send.send_at and send.send_at > utcnow() + timedelta(seconds=5):
        repository.create_schedule(scope, send_id, send.send_at)
        return
    start(scope, send)


def fired(scope: Scope, send_id: str) -> None:
    """A send's schedule fired: start it unless it was cancelled meanwhile."""
    send = _send(scope, send_id)
    start(scope, send)
    repository.delete_schedule(send_id)


def start(scope: Scope, send: MessageSend) -> None:
    """scheduled / queued -> sending, and its first page queued (again, for a send already sending)."""
    if send.status in ("scheduled", "queued") and not repository.start(scope, send, new_id(), utcnow()):
        found = repository.find_send(scope, send.send_id)
        if found is None:
            return
        send = found
    if send.status == "sending":
        repository.queue_page(scope, send.send_id, 0, None)


# -- pages -------------------------------------------------------------------------------------------------------
def page(scope: Scope, message: PageMessage, delivery: Delivery) -> dict[str, Any]:
    try:
        return _page(scope, message)
    except (Refused, RetryLater):
        raise
    except Exception as error:
        reason = f"page {message.page} of send {message.send_id}: {type(error).__name__}: {error}"
        logger.exception("a fan-out page failed", extra={"send_id": message.send_id, "page": message.page})
        if delivery.attempt >= MAX_PAGE_ATTEMPTS:
            repository.finish(scope, message.send_id, "failed", utcnow(), error=reason)
            raise Refused(f"{reason} (attempt {delivery.attempt}: given up)") from error
        raise RetryLater(reason, delay_seconds=min(2 ** (delivery.attempt - 1), 300)) from error


def _page(scope: Scope, message: PageMessage) -> dict[str, Any]:
    send = _send(scope, message.send_id)
    marker = repository.find_page(scope, send.send_id, message.page)
    if marker is not None:
        _after(scope, send, marker)
        return {"page": message.page, "written": False}
    if send.status != "sending" or not send.dispatch_id:
        return {"page": message.page, "written": False, "status": send.status}
    words = Message.of(send)
    tenant = channels(scope)
    size = _page_size(send, tenant, words)
    people, following = Plan.of(scope, dict(send.recipients or {})).page(message.start, size)
    wanted = repository.preferences(scope, [u.user_id for u in people]) if send.channels is None else {}
    for _ in range(REWRITES):
        write = _build(scope, send, words, tenant, message, people, wanted, following)
        try:
            repository.write_page(scope, write)
        except PageRefused as refused:
            marker_key = (write.marker.pk, write.marker.sk)
            send_key = tuple(keys.message_send(scope, send.send_id))
            if marker_key in refused.failed:  # another copy of this page got there first
                found = repository.find_page(scope, send.send_id, message.page)
                if found is not None:
                    _after(scope, send, found)
                return {"page": message.page, "written": False}
            if send_key in refused.failed:
                return {"page": message.page, "written": False, "status": "not sending"}
            if not refused.failed:
                raise RetryLater("the page met a concurrent transaction", delay_seconds=1) from refused
            # people who have their records already (they moved between sources while the fan-out ran)
            seen = {write.owners[k] for k in refused.failed if k in write.owners}
            if not seen:
                raise RetryLater("the page's transaction was refused", delay_seconds=1) from refused
            people = [u for u in people if u.user_id not in seen]
            continue
        for item in write.messages:
            realtime.push(scope, item.user_id, inbox.message_frame(item))
        _after(scope, send, write.marker)
        return {"page": message.page, "written": True, "recipients": write.recipients}
    raise RuntimeError("the page kept meeting records written meanwhile")


def _candidates(send: MessageSend, tenant: dict[str, Channel], words: Message) -> list[str]:
    if send.channels is not None:
        return [str(c) for c in send.channels]
    return [c for c in PREFERENCE_CHANNELS if tenant[c].usable and words.has(c)]


def _page_size(send: MessageSend, tenant: dict[str, Channel], words: Message) -> int:
    """People per page: as many as the transaction holds with every channel a person may get."""
    per_person = sum(3 if c == "in_app" else 1 for c in _candidates(send, tenant, words)) or 1
    return max(1, (TRANSACTION_ITEMS - PAGE_OVERHEAD) // per_person)


def _channels_for(
    send: MessageSend, tenant: dict[str, Channel], words: Message, prefs: Preferences | None
) -> list[str]:
    if send.channels is not None:
        return [str(c) for c in send.channels]
    wanted = prefs.wanted_channels() if prefs is not None else dict(DEFAULT_NOTIFICATIONS)
    return [c for c in _candidates(send, tenant, words) if wanted.get(c)]


def _build(
    scope: Scope,
    send: MessageSend,
    words: Message,
    tenant: dict[str, Channel],
    message: PageMessage,
    people: list[User],
    wanted: dict[str, Preferences],
    following: dict[str, Any] | None,
) -> PageWrite:
    now = utcnow()
    deliveries: list[MessageDelivery] = []
    messages: list[InboxMessage] = []
    external: list[str] = []
    counts = {f"{c}_{s}": 0 for c in CHANNELS for s in ("queued", "delivered", "failed")}
    for person in people:
        recipient = Recipient(person.user_id, person.name, person.email, person.phone)
        for channel in _channels_for(send, tenant, words, wanted.get(person.user_id)):
            record = MessageDelivery.new(scope, send.send_id, person.user_id, channel, status="queued")
            if not tenant[channel].usable:
                record.status, record.error = "failed", tenant[channel].why_not
            elif channel == "in_app":
                try:
                    title, content = words.in_app(recipient)
                except ValidationError as error:
                    record.status, record.error = "failed", "; ".join(e.message for e in error.errors)[:1000]
                else:
                    record.status, record.delivered_at = "delivered", now
                    messages.append(
                        InboxMessage.new(
                            scope,
                            person.user_id,
                            str(send.dispatch_id),
                            type=send.type,
                            title=_clipped(title, MAX_TITLE),
                            content=_clipped(content, MAX_CONTENT),
                            send_id=send.send_id,
                            link=send.link,
                        )
                    )
            elif channel == "email":
                record.address = person.email
            elif channel == "sms":
                record.address = phone_number(person.phone)
                if record.address is None:
                    record.status, record.error = "failed", "the account has no E.164 phone number"
            if record.status == "queued":
                external.append(record.sk)
            counts[f"{channel}_{record.status}"] += 1
            deliveries.append(record)
    marker = FanoutPage.new(
        scope, send.send_id, message.page, following=following, external=external, recipients=len(people)
    )
    owners = {(d.pk, d.sk): d.user_id for d in deliveries} | {(m.pk, m.sk): m.user_id for m in messages}
    return PageWrite(marker, deliveries, messages, counts, len(people), owners)


def _after(scope: Scope, send: MessageSend, marker: FanoutPage) -> None:
    """What follows a written page (again, for a page seen again): its external deliveries, the next page."""
    repository.queue_deliveries(scope, send.send_id, [str(k) for k in marker.external or []])
    if marker.following is not None:
        following = int(marker.page) + 1
        if repository.find_page(scope, send.send_id, following) is None:
            repository.queue_page(scope, send.send_id, following, dict(marker.following))
        return
    repository.finish(scope, send.send_id, "sent", utcnow())


# -- external deliveries --------------------------------------------------------------------------------------------
class Transient(Exception):
    """A delivery that may succeed later (a throttled API, a receiver that answered 5xx, a network fault)."""


def deliver(scope: Scope, message: DeliveryMessage, delivery: Delivery) -> dict[str, Any]:
    send = _send(scope, message.send_id)
    now = utcnow()
    found = repository.deliveries(scope, send.send_id, message.deliveries)
    outcomes: list[Outcome] = []
    claimed: list[MessageDelivery] = []
    for record in found:
        if record.status != "queued":
            continue  # made already
        if record.claimed_at is not None:
            if now - record.claimed_at > LEASE:
                error = "the worker delivering it stopped before recording the outcome; not sent again"
                outcomes.append(Outcome(record, "failed", error=error))
            continue  # another worker is delivering it right now
        if repository.claim(record, now):
            claimed.append(record)
    if not claimed and not outcomes:
        return {"delivered": 0}
    words = Message.of(send)
    tenant = channels(scope)
    people = repository.users(scope, [r.user_id for r in claimed])
    secret: list[str] = []
    retry = False
    for record in claimed:
        outcome = _deliver_one(scope, words, tenant, people.get(record.user_id), record, secret)
        if outcome.status == "queued":
            retry = True
        outcomes.append(outcome)
    repository.complete(scope, send.send_id, outcomes, utcnow())
    if retry:
        raise RetryLater("a delivery will be tried again", delay_seconds=min(30 * delivery.attempt, 600))
    return {"delivered": sum(1 for o in outcomes if o.status == "delivered")}


def _again_or_failed(record: MessageDelivery, reason: str) -> Outcome:
    """Released to be tried again (its message comes back after a back-off), or failed after its last try."""
    if int(record.attempts or 0) >= MAX_DELIVERY_ATTEMPTS:
        return Outcome(record, "failed", error=f"{reason} (after {record.attempts} attempts)")
    return Outcome(record, "queued", error=reason)


def _deliver_one(
    scope: Scope,
    words: Message,
    tenant: dict[str, Channel],
    person: User | None,
    record: MessageDelivery,
    secret: list[str],
) -> Outcome:
    channel = tenant[record.channel]
    refusal = "the account no longer exists" if person is None else None if channel.usable else channel.why_not
    if person is None or refusal is not None:
        return Outcome(record, "failed", error=refusal)
    recipient = Recipient(person.user_id, person.name, person.email, person.phone)
    try:
        provider_id = _make(scope, words, channel, recipient, record, secret)
    except Transient as error:
        return _again_or_failed(record, str(error))
    except ValidationError as error:
        detail = "; ".join(f"{e.field}: {e.message}" for e in error.errors) or error.detail
        return Outcome(record, "failed", error=detail)
    except Exception as error:  # a fault of ours: recorded, tried again, never lost with its claim held
        logger.exception("a delivery failed", extra={"send_id": record.send_id, "delivery": record.delivery_id})
        return _again_or_failed(record, f"{type(error).__name__}: {error}")
    return Outcome(record, "delivered", provider_id=provider_id)


def _make(
    scope: Scope, words: Message, channel: Channel, recipient: Recipient, record: MessageDelivery, secret: list[str]
) -> str:
    """Send one delivery on its channel; answers the provider's id (Transient: try again later)."""
    if record.channel == "email":
        subject, html, text = words.email(recipient)
        to = [str(record.address or recipient.email)]
        try:
            return mail.send_raw(scope, to, subject, html, text, kind="message", category="notification")
        except (BotoCoreError, ClientError, RuntimeError) as error:
            raise Transient(f"the mail queue did not take it: {error}") from error
    if record.channel == "sms":
        try:
            return send_sms(channel.config, str(record.address), words.sms(recipient))
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("Throttling", "ThrottlingException", "InternalError", "KMSThrottling"):
                raise Transient(f"SNS: {code}") from error
            raise ValidationError(f"SNS refused it: {code}", errors=[]) from error
        except BotoCoreError as error:
            raise Transient(f"SNS could not be reached: {error}") from error
    stored = channel.stored
    assert stored is not None  # a usable webhook has a stored config
    if not secret:
        secret.append(webhook_secret(stored))
    content_type, body = words.webhook(recipient)
    delivery_id = f"{record.send_id}.{record.delivery_id}"
    try:
        answer = post_webhook(scope, stored, body, delivery_id=delivery_id, content_type=content_type, secret=secret[0])
    except OutboundError as error:
        raise Transient(f"the webhook could not be reached: {error.detail}") from error
    if answer.status == 429 or answer.status >= 500:
        raise Transient(f"the webhook answered {answer.status}")
    if not 200 <= answer.status < 300:
        raise ValidationError(f"the webhook answered {answer.status}", errors=[])
    return str(answer.status)
