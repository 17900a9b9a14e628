"""Every event-source wrapper: the tenant comes from the event (checked), no tenant is refused, once per event id.

The handlers here run in the test's own process against the stack's moto, on events shaped as each AWS
source delivers them. Each handler reads the tenant record named in its body: its own tenant's works,
another tenant's is stopped by the DynamoDB guard.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from pydantic import BaseModel
from riveredge import aws, keys
from riveredge.consumers import Delivery, bus, s3, schedule, sqs, streams, tasks
from riveredge.errors import TenantIsolationError
from riveredge.scope import current_scope
from riveredge.settings import get_settings

from local_stack.stack import LocalStack
from local_stack.worker import LambdaContext
from tests.integration.conftest import TenantFixture


class Body(BaseModel):
    read: str  # the tenant whose record the handler reads


effects: list[tuple[str, str]] = []  # (event source, tenant) of every handler run


def _effect(source: str, read: str, delivery: Delivery) -> dict[str, Any]:
    scope = current_scope()
    assert scope is not None and scope.tenant_id == delivery.tenant_id
    key = keys.tenant(read)
    found = aws.dynamodb().get_item(TableName=get_settings().table_name, Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}})
    effects.append((source, delivery.tenant_id))
    return {"found": "Item" in found}


def _context() -> LambdaContext:
    return LambdaContext(
        "consumer-test", 256, "arn:aws:lambda:us-east-1:123456789012:function:t", "r", int(time.time() * 1000) + 60_000
    )


@pytest.fixture
def dead_letters(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], list[str]]]:
    """The reasons of what the consumers under test refused."""
    url = stack.resolver.refs["EventsDeadLetterQueue"]
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", url)
    get_settings.cache_clear()
    client = boto3.client("sqs")

    def drain() -> list[str]:
        reasons: list[str] = []
        while messages := client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for message in messages:
                reasons.append(message["MessageAttributes"]["reason"]["StringValue"])
                client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return reasons

    drain()
    yield drain
    monkeypatch.delenv("DEAD_LETTER_QUEUE_URL")
    get_settings.cache_clear()


# -- the events, as each source delivers them ---------------------------------------------
def _sqs(tenant: str | None, read: str, message_id: str) -> dict[str, Any]:
    attributes = {"tenant_id": {"stringValue": tenant, "dataType": "String"}} if tenant else {}
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": json.dumps({"read": read}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": attributes,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:riveredge-local-mail",
            }
        ]
    }


def _bus(tenant: str | None, read: str, event_id: str) -> dict[str, Any]:
    detail: dict[str, Any] = {"read": read, "event_id": event_id}
    if tenant:
        detail["tenant_id"] = tenant
    return {"id": str(uuid.uuid4()), "detail-type": "probe.happened", "source": "riveredge.tests", "detail": detail}


def _s3(tenant: str | None, read: str, version: str) -> dict[str, Any]:
    key = f"{tenant}/probes/{read}.txt" if tenant else f"{read}.txt"
    return {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": "files"}, "object": {"key": key, "size": 1, "versionId": version}},
            }
        ]
    }


def _stream(tenant: str | None, read: str, sequence: str) -> dict[str, Any]:
    pk = f"T#{tenant}#PROBE" if tenant else "PROBE"
    image = {"pk": {"S": pk}, "sk": {"S": "1"}, "read": {"S": read}}
    return {
        "Records": [
            {
                "eventID": uuid.uuid4().hex,
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "dynamodb": {
                    "Keys": {"pk": {"S": pk}, "sk": {"S": "1"}},
                    "NewImage": image,
                    "SequenceNumber": sequence,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1",
            }
        ]
    }


def _schedule(tenant: str | None, read: str, due: str) -> dict[str, Any]:
    event = json.loads(schedule.target_input(tenant or "", {"read": read}))
    event.update(
        {"schedule_arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/default/probe", "scheduled_time": due}
    )
    event["attempt"] = "1"
    if not tenant:
        del event["tenant_id"]
    return event


def _task(tenant: str | None, read: str, execution: str) -> dict[str, Any]:
    event: dict[str, Any] = {"task": "probe", "read": read, "execution": execution, "state": "Probe", "retry": 0}
    if tenant:
        event["tenant_id"] = tenant
    return event


# -- the consumers --------------------------------------------------------------------------
@sqs.consumer(Body)
def sqs_handler(body: Body, delivery: Delivery) -> dict[str, Any]:
    return _effect("sqs", body.read, delivery)


bus_handler = bus.Consumer()


@bus_handler.on("probe.happened", Body)
def on_probe(body: Body, delivery: Delivery) -> dict[str, Any]:
    return _effect("bus", body.read, delivery)


@s3.consumer()
def s3_handler(stored: s3.StoredObject, delivery: Delivery) -> dict[str, Any]:
    return _effect("s3", stored.key.rsplit("/", 1)[-1].removesuffix(".txt"), delivery)


@streams.consumer()
def stream_handler(change: streams.Change, delivery: Delivery) -> dict[str, Any]:
    return _effect("streams", str(change.item["read"]), delivery)


@schedule.consumer(Body)
def schedule_handler(body: Body, delivery: Delivery) -> dict[str, Any]:
    return _effect("schedule", body.read, delivery)


task_handler = tasks.Dispatcher()


@task_handler.task("probe", Body)
def probe_task(body: Body, delivery: Delivery) -> dict[str, Any]:
    return _effect("task", body.read, delivery)


SOURCES: dict[str, tuple[Callable[[dict[str, Any], Any], Any], Callable[[str | None, str, str], dict[str, Any]]]] = {
    "sqs": (sqs_handler, _sqs),
    "bus": (bus_handler, _bus),
    "s3": (s3_handler, _s3),
    "streams": (stream_handler, _stream),
    "schedule": (schedule_handler, _schedule),
    "task": (task_handler, _task),
}
BATCHES = {"sqs", "streams"}  # report failures per record instead of raising


def _run(source: str, event: dict[str, Any]) -> tuple[Any, Exception | None]:
    handler = SOURCES[source][0]
    try:
        return handler(event, _context()), None
    except Exception as error:
        return None, error


@pytest.mark.parametrize("source", SOURCES)
def test_an_event_runs_in_its_tenants_scope_and_cannot_touch_another_tenant(
    source: str, acme: TenantFixture, globex: TenantFixture, dead_letters: Callable[[], list[str]]
) -> None:
    build = SOURCES[source][1]
    # An event of acme reading acme's record: handled, in acme's scope
    before = len(effects)
    answer, error = _run(source, build(acme.id, acme.id, uuid.uuid4().hex))
    assert error is None and effects[before:] == [(source, acme.id)]
    # An event of acme reading globex's record: stopped by the guard, so the event failed (to be retried)
    answer, error = _run(source, build(acme.id, globex.id, uuid.uuid4().hex))
    if source in BATCHES:
        assert error is None and len(answer["batchItemFailures"]) == 1
    else:
        assert isinstance(error, TenantIsolationError)
    assert effects[before + 1 :] == []
    assert dead_letters() == []


@pytest.mark.parametrize("source", SOURCES)
def test_an_event_that_names_no_tenant_or_an_unknown_one_is_refused(
    source: str, acme: TenantFixture, dead_letters: Callable[[], list[str]]
) -> None:
    build = SOURCES[source][1]
    before = len(effects)
    for tenant in (None, "01ARZ3NDEKTSV4RRFFQ69G5FAV"):
        answer, error = _run(source, build(tenant, acme.id, uuid.uuid4().hex))
        if source == "task":  # a state machine sees a named error its Catch can match
            assert type(error).__name__ == "UnknownTenant", error
        else:
            assert error is None, error
            if source in BATCHES:
                assert answer["batchItemFailures"] == []  # refused for good: not retried
    assert effects[before:] == []
    if source != "task":
        reasons = dead_letters()
        assert len(reasons) == 2 and "unknown tenant" in reasons[1], reasons
        assert "no tenant" in reasons[0] or "belongs to no tenant" in reasons[0] or "under no tenant" in reasons[0]


@pytest.mark.parametrize("source", SOURCES)
def test_the_same_event_delivered_twice_has_one_effect(
    source: str, acme: TenantFixture, dead_letters: Callable[[], list[str]]
) -> None:
    build = SOURCES[source][1]
    event_id = uuid.uuid4().hex
    before = len(effects)
    first, error = _run(source, build(acme.id, acme.id, event_id))
    again, error_again = _run(source, build(acme.id, acme.id, event_id))
    assert error is None and error_again is None
    assert effects[before:] == [(source, acme.id)]
    assert first == again


def test_a_body_that_fails_its_model_is_refused_naming_the_field(
    acme: TenantFixture, dead_letters: Callable[[], list[str]]
) -> None:
    event = _sqs(acme.id, acme.id, uuid.uuid4().hex)
    event["Records"][0]["body"] = json.dumps({"reads": acme.id})
    assert sqs_handler(event, _context()) == {"batchItemFailures": []}
    assert ["read: Field required" in r for r in dead_letters()] == [True]
    with pytest.raises(tasks.InvalidTaskInput, match="read: Field required"):
        task_handler({"task": "probe", "tenant_id": acme.id, "execution": "e", "state": "s"}, _context())
    with pytest.raises(tasks.InvalidTaskInput, match="unknown task"):
        task_handler({"task": "nope", "tenant_id": acme.id}, _context())
