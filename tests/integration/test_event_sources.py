"""The local stack's event source mappings behave as Lambda's: partial batch failures, redrive, order, filters."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from riveredge import aws
from riveredge.scope import Scope, use_scope
from riveredge.settings import get_settings

from local_stack.event_sources import Mapping
from local_stack.lambdas import LocalFunction
from local_stack.stack import LocalStack
from local_stack.worker import FunctionSpec
from tests.integration.conftest import TenantFixture

PROBE_DIR = Path(__file__).resolve().parent / "probe_function"


@pytest.fixture
def consumer(stack: LocalStack, tmp_path: Path) -> Iterator[tuple[LocalFunction, Path]]:
    log = tmp_path / "records.log"
    log.touch()
    name = f"riveredge-local-records-{uuid.uuid4().hex[:8]}"  # a pool of its own: its environment names this log
    spec = FunctionSpec(
        logical_id=name,
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        handler="records.lambda_handler",
        code_dir=str(PROBE_DIR),
        memory_mb=256,
        timeout_seconds=10,
        environment={"PROBE_LOG": str(log)},
        log_path=stack.function_log,
    )
    function = LocalFunction(spec, 1, stack.runtime)
    yield function, log
    function.pool.stop()


def _queue(name: str, **attributes: str) -> tuple[str, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _until(condition: object, timeout: float = 30.0, message: object = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out: {message.read_text() if isinstance(message, Path) else ''}"
        time.sleep(0.05)


def test_only_the_failed_message_of_a_batch_is_retried_and_then_redriven(
    stack: LocalStack, consumer: tuple[LocalFunction, Path]
) -> None:
    function, log = consumer
    sqs = boto3.client("sqs")
    suffix = uuid.uuid4().hex[:8]
    dlq_url, dlq_arn = _queue(f"probe-dlq-{suffix}")
    url, arn = _queue(
        f"probe-{suffix}",
        VisibilityTimeout="1",
        RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    )
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[{"Id": n, "MessageBody": json.dumps({"name": n})} for n in ("good-1", "bad-1", "good-2")],
    )
    pollers = stack.event_sources.add(
        Mapping("probe-sqs", function, "sqs", arn, batch_size=10, report_failures=True, concurrency=1)
    )
    try:
        _until(lambda: "Messages" in sqs.receive_message(QueueUrl=dlq_url, VisibilityTimeout=0))
    finally:
        stack.event_sources.remove(pollers)
    lines = log.read_text().split()
    # The good ones were delivered once each; the failed one twice (maxReceiveCount), then redriven
    assert sorted(lines) == ["bad-1", "bad-1", "good-1", "good-2"]
    dead = sqs.receive_message(QueueUrl=dlq_url, VisibilityTimeout=0)["Messages"]
    assert [json.loads(m["Body"])["name"] for m in dead] == ["bad-1"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"] == "0" and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def test_stream_records_arrive_in_order_filtered_and_a_failing_one_goes_to_the_on_failure_destination(
    stack: LocalStack, consumer: tuple[LocalFunction, Path], acme: TenantFixture
) -> None:
    function, log = consumer
    sqs = boto3.client("sqs")
    dlq_url, dlq_arn = _queue(f"probe-stream-dlq-{uuid.uuid4().hex[:8]}")
    table = get_settings().table_name
    stream_arn = stack.resolver.attributes[("Table", "StreamArn")]
    kind = f"probe-{uuid.uuid4().hex[:8]}"
    pattern = json.dumps({"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": [kind]}}}})
    pollers = stack.event_sources.add(
        Mapping(
            "probe-stream",
            function,
            "dynamodb",
            stream_arn,
            batch_size=100,
            report_failures=True,
            filters=[{"Pattern": pattern}],
            maximum_retries=1,
            on_failure_arn=dlq_arn,
        )
    )
    try:
        scope = Scope(acme.id)
        with use_scope(scope):
            for sk in ("a", "b", "bad", "c", "d"):
                aws.dynamodb().put_item(
                    TableName=table,
                    Item={"pk": {"S": f"T#{acme.id}#PROBE"}, "sk": {"S": sk}, "entity": {"S": kind}},
                )
                aws.dynamodb().put_item(  # not matched by the filter: never delivered
                    TableName=table,
                    Item={"pk": {"S": f"T#{acme.id}#PROBE"}, "sk": {"S": f"other-{sk}"}, "entity": {"S": "x"}},
                )

        def reported_and_past_it() -> bool:
            lines = log.read_text().split()
            after = lines[len(lines) - lines[::-1].index("bad") :] if "bad" in lines else []
            waiting = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
            return "d" in after and waiting["Attributes"]["ApproximateNumberOfMessages"] == "1"

        _until(reported_and_past_it, message=log)
    finally:
        stack.event_sources.remove(pollers)
    lines = log.read_text().split()
    # In order (a record is first delivered after every record before it); the ones before the failing record
    # once each; the failing one once more (MaximumRetryAttempts 1), then reported; the ones after it delivered
    # again with each retry (Lambda retries from the failed record) and finally after it
    assert list(dict.fromkeys(lines)) == ["a", "b", "bad", "c", "d"]
    assert lines.count("a") == 1 and lines.count("b") == 1 and lines.count("bad") == 2
    last_bad = len(lines) - 1 - lines[::-1].index("bad")
    assert {"c", "d"} <= set(lines[last_bad + 1 :])
    assert all(not x.startswith("other") for x in lines)
    failure = json.loads(sqs.receive_message(QueueUrl=dlq_url)["Messages"][0]["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["DDBStreamBatchInfo"]["streamArn"] == stream_arn
