"""Fan-out persistence and queues: the only code of this function that touches DynamoDB, SQS and Scheduler."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.expressions.update import Action
from riveredge import aws, inbox, keys
from riveredge.consumers import sqs
from riveredge.consumers.schedule import target_input
from riveredge.db.base import TableModel
from riveredge.db.changes import Change, System, change
from riveredge.db.models import InboxMessage, Preferences, User
from riveredge.errors import ConflictError, DomainError
from riveredge.messaging import schedule_name
from riveredge.messaging.models import FanoutPage, MessageDelivery, MessageSend
from riveredge.scope import Scope

SQS_BATCH = 10
COMPLETE_ATTEMPTS = 10


@dataclass(frozen=True)
class Settings:
    page_queue_url: str
    delivery_queue_url: str
    scheduler_role_arn: str
    function_arn: str
    dead_letter_queue_arn: str

    @property
    def page_queue_name(self) -> str:
        return self.page_queue_url.rstrip("/").rsplit("/", 1)[-1]


def settings() -> Settings:
    """This function's own settings (template.yaml gives them; five variables, read when used)."""
    return Settings(
        page_queue_url=os.environ.get("MESSAGE_PAGE_QUEUE_URL", ""),
        delivery_queue_url=os.environ.get("MESSAGE_DELIVERY_QUEUE_URL", ""),
        scheduler_role_arn=os.environ.get("MESSAGE_SCHEDULER_ROLE_ARN", ""),
        function_arn=os.environ.get("MESSAGE_FANOUT_FUNCTION_ARN", ""),
        dead_letter_queue_arn=os.environ.get("MESSAGE_DEAD_LETTER_QUEUE_ARN", ""),
    )


# -- sends --------------------------------------------------------------------------------------------------------
def find_send(scope: Scope, send_id: str) -> MessageSend | None:
    return MessageSend.find(keys.message_send(scope, send_id))


def start(scope: Scope, send: MessageSend, dispatch_id: str, now: datetime) -> bool:
    """scheduled / queued -> sending, on condition that nobody changed it meanwhile (False: somebody did)."""
    before = send.snapshot()
    status = send.status
    send.status, send.dispatch_id, send.started_at = "sending", dispatch_id, now
    try:
        with change(System(scope), "message.start", send, before=before) as c:
            c.save(send, condition=MessageSend.status == status)
    except DomainError:
        return False
    return True


def finish(scope: Scope, send_id: str, status: str, now: datetime, error: str | None = None) -> None:
    """sending -> sent (or failed, with the reason); a send in another state stays as it is."""
    item = MessageSend(*keys.message_send(scope, send_id))
    actions: list[Action] = [MessageSend.status.set(status), MessageSend.finished_at.set(now)]
    if error is not None:
        actions.append(MessageSend.error.set(error[:1000]))
    try:
        with change(System(scope), "message.finish") as c:
            c.update(item, actions, condition=MessageSend.status == "sending", versioned=False)
    except DomainError:
        return


# -- pages ----------------------------------------------------------------------------------------------------
def find_page(scope: Scope, send_id: str, page: int) -> FanoutPage | None:
    return FanoutPage.find(keys.message_page(scope, send_id, page))


def preferences(scope: Scope, user_ids: Iterable[str]) -> dict[str, Preferences]:
    wanted = [keys.preferences(scope, u) for u in user_ids]
    found = TableModel.batch_get([(k.pk, k.sk) for k in wanted]) if wanted else []
    return {p.user_id: p for p in found if isinstance(p, Preferences)}


@dataclass
class PageWrite:
    """What one page writes, in one transaction."""

    marker: FanoutPage
    deliveries: list[MessageDelivery]
    messages: list[InboxMessage]
    counts: dict[str, int]
    recipients: int
    owners: dict[tuple[str, str], str]  # the recipient of each delivery record and inbox message


class PageRefused(Exception):
    """The page's transaction was cancelled: `failed` holds the keys whose conditions failed."""

    def __init__(self, failed: set[tuple[str, str]], error: DomainError) -> None:
        super().__init__(str(error))
        self.failed = failed


def write_page(scope: Scope, write: PageWrite) -> None:
    """The marker (new), the delivery records (new), the inbox messages (new, counted unread) and the send's
    counters, in one TransactWriteItems; PageRefused with the failed keys when it is cancelled."""
    send = MessageSend(*keys.message_send(scope, write.marker.send_id))
    actions: list[Action] = [MessageSend.pages.add(1), MessageSend.recipient_count.add(write.recipients)]
    for name, value in write.counts.items():
        if value:
            path = MessageSend.counts[name]
            actions.append(path.set(path + value))
    current: Change | None = None
    try:
        with change(System(scope), "message.fanout") as c:
            current = c
            c.create(write.marker, conflict="the page is written already")
            for delivery in write.deliveries:
                c.create(delivery, conflict="the delivery exists already")
            for message in write.messages:
                inbox.deliver(c, message)
            c.update(send, actions, condition=MessageSend.status == "sending", versioned=False, conflict="not sending")
    except DomainError as error:
        raise PageRefused(set(current.failed) if current else set(), error) from error


# -- external deliveries ------------------------------------------------------------------------------------------
def deliveries(scope: Scope, send_id: str, sort_keys: Sequence[str]) -> list[MessageDelivery]:
    wanted = [(keys.message_deliveries(scope, send_id), sk) for sk in sort_keys]
    found = [d for d in TableModel.batch_get(wanted, consistent_read=True) if isinstance(d, MessageDelivery)]
    order = {sk: i for i, sk in enumerate(sort_keys)}
    return sorted(found, key=lambda d: order.get(d.sk, 0))


def users(scope: Scope, user_ids: Iterable[str]) -> dict[str, User]:
    wanted = [keys.user(scope, u) for u in set(user_ids)]
    found = TableModel.batch_get([(k.pk, k.sk) for k in wanted]) if wanted else []
    return {u.user_id: u for u in found if isinstance(u, User)}


def claim(delivery: MessageDelivery, now: datetime) -> bool:
    """Take a queued delivery for this worker (False: another worker has it, or it is done)."""
    from pynamodb.exceptions import UpdateError

    try:
        delivery.update(
            actions=[MessageDelivery.claimed_at.set(now), MessageDelivery.attempts.add(1)],
            condition=(MessageDelivery.status == "queued") & MessageDelivery.claimed_at.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


@dataclass(frozen=True)
class Outcome:
    delivery: MessageDelivery
    status: str  # delivered | failed | queued (released for a retry)
    provider_id: str | None = None
    error: str | None = None


def complete(scope: Scope, send_id: str, outcomes: Sequence[Outcome], now: datetime) -> None:
    """Record what became of claimed deliveries and move the send's counters, in one transaction (again on a
    conflict with another transaction on the send's counters: the deliveries themselves are done)."""
    moves: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.status != "queued":
            channel = outcome.delivery.channel
            moves[f"{channel}_queued"] = moves.get(f"{channel}_queued", 0) - 1
            moves[f"{channel}_{outcome.status}"] = moves.get(f"{channel}_{outcome.status}", 0) + 1
    send = MessageSend(*keys.message_send(scope, send_id))
    counters: list[Action] = []
    for name, value in moves.items():
        path = MessageSend.counts[name]
        counters.append(path.set(path + value))
    for attempt in range(COMPLETE_ATTEMPTS):
        try:
            with change(System(scope), "message.deliver") as c:
                for outcome in outcomes:
                    c.update(outcome.delivery, _outcome_actions(outcome, now), versioned=True)
                if counters:
                    c.update(send, counters, versioned=False)
            return
        except ConflictError:
            time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))  # noqa: S311  (jitter, not a secret)
    raise ConflictError("the deliveries' outcomes could not be recorded (the send's counters stayed busy)")


def _outcome_actions(outcome: Outcome, now: datetime) -> list[Action]:
    actions: list[Action] = [MessageDelivery.claimed_at.remove()]
    if outcome.status != "queued":
        actions.append(MessageDelivery.status.set(outcome.status))
    if outcome.status == "delivered":
        actions.append(MessageDelivery.delivered_at.set(now))
    if outcome.provider_id is not None:
        actions.append(MessageDelivery.provider_id.set(outcome.provider_id))
    if outcome.error is not None:
        actions.append(MessageDelivery.error.set(outcome.error[:1000]))
    return actions


# -- queues and schedules -----------------------------------------------------------------------------------------
def _send_batch(queue_url: str, tenant_id: str, bodies: Sequence[dict[str, Any]]) -> None:
    attributes = sqs.attributes(tenant_id)
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start : start + SQS_BATCH]
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(body), "MessageAttributes": attributes}
            for n, body in enumerate(chunk)
        ]
        answer = aws.sqs().send_message_batch(QueueUrl=queue_url, Entries=entries)  # type: ignore[arg-type]
        if answer.get("Failed"):
            raise RuntimeError(f"{len(answer['Failed'])} message(s) were not queued: {answer['Failed'][:2]}")


def queue_deliveries(scope: Scope, send_id: str, sort_keys: Sequence[str]) -> None:
    """Queue external deliveries, ten to a message (a delivery queued twice is made once: the worker claims it)."""
    bodies = [
        {"send_id": send_id, "deliveries": list(sort_keys[i : i + SQS_BATCH])}
        for i in range(0, len(sort_keys), SQS_BATCH)
    ]
    if bodies:
        _send_batch(settings().delivery_queue_url, scope.tenant_id, bodies)


def queue_page(scope: Scope, send_id: str, page: int, start: dict[str, Any] | None) -> None:
    body = {"send_id": send_id, "page": page, "start": start}
    _send_batch(settings().page_queue_url, scope.tenant_id, [body])


def create_schedule(scope: Scope, send_id: str, at: datetime) -> None:
    """A one-time schedule that fires the send at `at` (deleted after it ran; one already there is fine)."""
    config = settings()
    target: dict[str, Any] = {
        "Arn": config.function_arn,
        "RoleArn": config.scheduler_role_arn,
        "Input": target_input(scope.tenant_id, {"send_id": send_id}),
        "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 86400},
    }
    if config.dead_letter_queue_arn:
        target["DeadLetterConfig"] = {"Arn": config.dead_letter_queue_arn}
    try:
        aws.scheduler().create_schedule(
            Name=schedule_name(send_id),
            ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,  # type: ignore[arg-type]
            ActionAfterCompletion="DELETE",
            State="ENABLED",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConflictException":
            raise


def delete_schedule(send_id: str) -> None:
    try:
        aws.scheduler().delete_schedule(Name=schedule_name(send_id))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
