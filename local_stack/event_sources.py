"""Event source mappings, locally: SQS queues and DynamoDB streams polled, batches delivered as Lambda does.

moto records messages and stream records but runs no poller (its own stream
trigger would call the function inside the write, under the moto lock). Each
``SQS`` and ``DynamoDB`` event of a function in template.yaml becomes a poller
here, with the mapping's batch size, ``FunctionResponseTypes``
(``ReportBatchItemFailures``), ``FilterCriteria``, ``MaximumRetryAttempts``,
``BisectBatchOnFunctionError`` and ``DestinationConfig.OnFailure``:

- SQS: up to ``MaximumConcurrency`` pollers receive batches (the queue's
  visibility timeout applies); what succeeded is deleted, what failed comes
  back when its visibility ends, and moto's redrive policy moves a message that
  keeps failing to the dead-letter queue.
- DynamoDB Streams: one poller per mapping reads the table's shard in order,
  skips what the filters do not match, retries a failed batch from the record
  that failed (halving it on a function error when bisecting), and after the
  last retry sends the record's description to the on-failure destination and
  moves on. Records every mapping has read are dropped from moto's shard, which
  would otherwise keep every write of the session.

A poller sleeps until moto is written to (or half a second), so an idle stack
costs nothing; ``settle`` waits until every source is drained.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import boto3

from local_stack import serialise
from local_stack.environments import FunctionError
from local_stack.lambdas import LocalFunction

log = logging.getLogger("local_stack.event_sources")
IDLE_WAIT = 0.5
_wake: list[threading.Event] = []


def _wake_all() -> None:
    for event in list(_wake):
        event.set()


def _fast_queue_reads(queue_class: Any) -> None:
    """moto's SQS reads the clock twice per message of the queue on every receive and attribute read (a
    datetime each time): with 10,000 messages queued, the mailer's receives held the moto lock for minutes.
    The same filters, with the clock read once."""
    from moto.core.utils import unix_time_millis

    if getattr(queue_class.messages.fget, "_riveredge", False):
        return

    def messages(self: Any) -> list[Any]:
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def not_visible(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    def delayed(self: Any) -> int:
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    for name, getter in (
        ("messages", messages),
        ("approximate_number_of_messages_not_visible", not_visible),
        ("approximate_number_of_messages_delayed", delayed),
    ):
        getter._riveredge = True  # type: ignore[union-attr]
        setattr(queue_class, name, property(getter))


def install() -> None:
    """Wake the pollers whenever moto takes a message or a stream record."""
    from moto.dynamodb.models.table import StreamShard
    from moto.sqs.models import Queue

    _fast_queue_reads(Queue)

    for cls, name in ((StreamShard, "add"), (Queue, "add_message")):
        original = getattr(cls, name)
        if getattr(original, "_riveredge", False):
            continue

        def patched(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            result = _original(self, *args, **kwargs)
            _wake_all()
            return result

        patched._riveredge = True  # type: ignore[attr-defined]
        setattr(cls, name, patched)


def _epoch(value: Any) -> Any:
    """Stream records carry their creation time as epoch seconds (moto keeps a datetime)."""
    return int(value.timestamp()) if hasattr(value, "timestamp") else str(value)


def _simple(pattern: Any) -> bool:
    """Whether a pattern uses only nested objects and lists of exact values (what our mappings filter on)."""
    if isinstance(pattern, dict):
        return all(_simple(v) for v in pattern.values())
    return isinstance(pattern, list) and all(isinstance(v, str | int | float | bool) for v in pattern)


def _matches(pattern: dict[str, Any], value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    for key, wanted in pattern.items():
        found = value.get(key)
        if isinstance(wanted, dict):
            if not _matches(wanted, found):
                return False
        elif found not in wanted:
            return False
    return True


def _moto_matches(pattern: Any, record: dict[str, Any]) -> bool:
    return bool(pattern.matches_event(json.loads(json.dumps(record, default=_epoch))))


def _matcher(filters: list[dict[str, Any]]) -> Any:
    """A predicate over records from a mapping's FilterCriteria (EventBridge's pattern syntax, as Lambda's).

    Patterns of exact values are matched here, on moto's record as it is (a stream carries every write of the
    table; converting each record to JSON to test it held the moto lock for most of a busy run); any other
    pattern (prefix, numeric, exists...) goes to moto's matcher.
    """
    if not filters:
        return lambda record: True
    from moto.events.models import EventPattern, EventPatternParser

    checks: list[Callable[[dict[str, Any]], bool]] = []
    for f in filters:
        parsed = EventPatternParser(f["Pattern"]).parse()
        if _simple(parsed):
            checks.append(partial(_matches, parsed))
        else:
            checks.append(partial(_moto_matches, EventPattern(f["Pattern"], parsed)))
    return lambda record: any(check(record) for check in checks)


@dataclass
class Mapping:
    """One event source mapping of the template."""

    name: str
    function: LocalFunction
    kind: str  # sqs | dynamodb
    source_arn: str
    batch_size: int = 10
    report_failures: bool = False
    filters: list[dict[str, Any]] = field(default_factory=list)
    maximum_retries: int = -1  # -1: until the record expires (streams)
    bisect: bool = False
    on_failure_arn: str | None = None
    concurrency: int = 1


class Poller(threading.Thread):
    def __init__(self, mapping: Mapping, region: str) -> None:
        super().__init__(name=f"poller-{mapping.name}", daemon=True)
        self.mapping = mapping
        self.region = region
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.busy = False
        self.delivered = 0
        _wake.append(self.wake)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                worked = self.poll()
            except Exception:
                log.exception("poller %s failed", self.mapping.name)
                worked = False
            if not worked:
                self.wake.wait(IDLE_WAIT)
                self.wake.clear()

    def poll(self) -> bool:
        raise NotImplementedError

    def idle(self) -> bool:
        raise NotImplementedError

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()
        if self.wake in _wake:
            _wake.remove(self.wake)

    def _send_failure(self, body: dict[str, Any]) -> None:
        arn = self.mapping.on_failure_arn
        if not arn:
            log.error("%s dropped a batch after its retries: %s", self.mapping.name, body)
            return
        sqs = boto3.client("sqs", region_name=self.region)
        url = sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body, default=str))


class SqsPoller(Poller):
    def __init__(self, mapping: Mapping, region: str) -> None:
        super().__init__(mapping, region)
        self.sqs = boto3.client("sqs", region_name=region)
        self.url = self.sqs.get_queue_url(QueueName=mapping.source_arn.rsplit(":", 1)[-1])["QueueUrl"]

    def poll(self) -> bool:
        received = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=min(10, self.mapping.batch_size),
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return False
        self.busy = True
        try:
            self._deliver([dict(m) for m in received])
        finally:
            self.busy = False
        return True

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {
                    "stringValue": value.get("StringValue"),
                    "binaryValue": value.get("BinaryValue"),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.get("DataType", "String"),
                }
                for name, value in (message.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": message.get("MD5OfBody"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.mapping.source_arn,
            "awsRegion": self.region,
        }

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [self._record(m) for m in messages]
        try:
            answer = self.mapping.function.invoke({"Records": records})
        except FunctionError as error:
            log.warning("%s: batch of %d failed (%s)", self.mapping.name, len(records), error.error_type)
            return  # nothing deleted: every message comes back after its visibility timeout
        self.delivered += len(records)
        failed: set[str] = set()
        if self.mapping.report_failures and isinstance(answer, dict):
            failed = {str(f.get("itemIdentifier")) for f in answer.get("batchItemFailures") or []}
            if not failed <= {r["messageId"] for r in records}:
                log.warning("%s: unknown itemIdentifier in %s: the batch failed", self.mapping.name, failed)
                return
        done = [r for r in records if r["messageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(done[start:][:10])],
            )

    def idle(self) -> bool:
        if self.busy:
            return False
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
            == 0
        )


class StreamPoller(Poller):
    """Reads a table's single moto shard in order, from where this mapping started (TRIM_HORIZON)."""

    def __init__(self, mapping: Mapping, region: str, account_id: str, table_name: str, streams: Streams) -> None:
        super().__init__(mapping, region)
        self.account_id = account_id
        self.table_name = table_name
        self.streams = streams
        self.matches = _matcher(mapping.filters)
        self.position = self._shard().starting_sequence_number  # the next sequence number to read
        self.batch_limit = mapping.batch_size
        self.attempts = 0

    def _shard(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self.account_id][self.region].get_table(self.table_name).stream_shard

    def _pending(self) -> tuple[list[dict[str, Any]], int]:
        """The next batch of matching records, and the position after the last record looked at.

        Records the filters do not match are never delivered: the position moves past the ones before the
        first match, so that no scan looks at them again.
        """
        with serialise.locked():
            shard = self._shard()
            start = max(self.position, shard.starting_sequence_number) - shard.starting_sequence_number
            batch: list[dict[str, Any]] = []
            position = self.position
            for item in shard.items[start:]:
                raw = item.to_json()
                position = int(raw["dynamodb"]["SequenceNumber"]) + 1
                if self.matches(raw):
                    if not batch and not self.busy:
                        self.position = position - 1  # everything before this one is skipped for good
                    batch.append(json.loads(json.dumps(raw, default=_epoch)))
                    if len(batch) >= self.batch_limit:
                        break
            if not batch and not self.busy:
                self.position = position
        return batch, position

    def poll(self) -> bool:
        before = self.position
        batch, position = self._pending()
        if not batch:
            if self.position != before:
                self.streams.trim(self.table_name)
            return False
        self.busy = True
        try:
            self._deliver(batch, position)
        finally:
            self.busy = False
        return True

    def _deliver(self, batch: list[dict[str, Any]], position: int) -> None:
        for record in batch:
            record["eventSourceARN"] = self.mapping.source_arn
        try:
            answer = self.mapping.function.invoke({"Records": batch})
        except FunctionError as error:
            log.warning("%s: batch of %d failed (%s)", self.mapping.name, len(batch), error.error_type)
            self._failed(batch, 0, whole=True)
            return
        failures = []
        if self.mapping.report_failures and isinstance(answer, dict):
            failures = [str(f.get("itemIdentifier")) for f in answer.get("batchItemFailures") or []]
        if not failures:
            self.delivered += len(batch)
            self._advance(position)
            return
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        first = min((sequence.index(f) for f in failures if f in sequence), default=0)
        self.delivered += first
        self._failed(batch, first, whole=False)

    def _failed(self, batch: list[dict[str, Any]], first: int, *, whole: bool) -> None:
        """Retry from batch[first]; after the last retry, report it and go on after it."""
        self.position = int(batch[first]["dynamodb"]["SequenceNumber"])
        self.attempts += 1
        limit = self.mapping.maximum_retries
        if whole and self.mapping.bisect and self.batch_limit > 1:
            self.batch_limit = max(1, self.batch_limit // 2)
            return
        if limit < 0 or self.attempts <= limit:
            time.sleep(min(2.0, 0.05 * 2**self.attempts))
            return
        failed = batch[first] if not whole or len(batch) == 1 else batch[0]
        self._send_failure(
            {
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": self.mapping.function.arn,
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": self.attempts,
                },
                "DDBStreamBatchInfo": {
                    "shardId": self._shard().id,
                    "startSequenceNumber": failed["dynamodb"]["SequenceNumber"],
                    "endSequenceNumber": failed["dynamodb"]["SequenceNumber"],
                    "batchSize": 1,
                    "streamArn": self.mapping.source_arn,
                },
            }
        )
        self._advance(int(failed["dynamodb"]["SequenceNumber"]) + 1)

    def _advance(self, position: int) -> None:
        self.position = position
        self.attempts = 0
        self.batch_limit = self.mapping.batch_size
        self.streams.trim(self.table_name)

    def idle(self) -> bool:
        if self.busy:
            return False
        batch, _ = self._pending()
        return not batch


class Streams:
    """The stream pollers of each table, and the trimming of what they all have read."""

    def __init__(self) -> None:
        self.pollers: dict[str, list[StreamPoller]] = {}
        self._lock = threading.Lock()

    def add(self, poller: StreamPoller) -> None:
        self.pollers.setdefault(poller.table_name, []).append(poller)

    def trim(self, table_name: str) -> None:
        with self._lock, serialise.locked():
            pollers = self.pollers.get(table_name, [])
            if not pollers:
                return
            shard = pollers[0]._shard()
            done = min(p.position for p in pollers) - shard.starting_sequence_number
            if done > 0:
                del shard.items[:done]
                shard.starting_sequence_number += done


class EventSources:
    """Every mapping of the stack, started and stopped together."""

    def __init__(self, region: str, account_id: str) -> None:
        self.region = region
        self.account_id = account_id
        self.pollers: list[Poller] = []
        self.streams = Streams()

    def add(self, mapping: Mapping, *, start: bool = True) -> list[Poller]:
        added: list[Poller] = []
        if mapping.kind == "sqs":
            added.extend(SqsPoller(mapping, self.region) for _ in range(max(1, mapping.concurrency)))
        elif mapping.kind == "dynamodb":
            table = mapping.source_arn.split(":table/", 1)[1].split("/", 1)[0]
            stream = StreamPoller(mapping, self.region, self.account_id, table, self.streams)
            self.streams.add(stream)
            added.append(stream)
        else:
            raise ValueError(f"the local stack polls no {mapping.kind} sources")
        self.pollers.extend(added)
        if start:
            for poller in added:
                poller.start()
        return added

    def remove(self, pollers: list[Poller]) -> None:
        for poller in pollers:
            poller.stop()
            self.pollers.remove(poller)
            if isinstance(poller, StreamPoller):
                self.streams.pollers[poller.table_name].remove(poller)

    def idle(self) -> bool:
        return all(p.idle() for p in self.pollers)

    def stop(self) -> None:
        for poller in list(self.pollers):
            poller.stop()
