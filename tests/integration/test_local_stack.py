"""The local stack runs real handlers wherever AWS would: rule targets, schedules, S3 notifications."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus

import boto3
from riveredge import keys
from riveredge.db.models import LoginIdentity
from riveredge.scope import platform_scope, use_scope

from local_stack.lambdas import FunctionError
from local_stack.stack import LocalStack
from local_stack.template import load
from tests.integration.conftest import login
from tests.support import PASSWORD


def _function_arn(stack: LocalStack, logical_id: str) -> str:
    return stack.registry.get(logical_id).arn


def _bootstrap_input(email: str) -> str:
    return json.dumps({"task": "bootstrap_operator", "email": email, "name": "Op", "password": PASSWORD})


def _operator_exists(email: str) -> bool:
    """Whether a platform operator with `email` has a credential (read without signing in: no lockout)."""
    key = keys.login(platform_scope(), email)
    with use_scope(platform_scope()):
        try:
            LoginIdentity.get(key.pk, key.sk)
        except LoginIdentity.DoesNotExist:
            return False
    return True


def _eventually(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_an_event_bus_rule_runs_its_lambda_target_in_process(stack: LocalStack) -> None:
    # Given a rule on the application's bus whose target is a function of the template
    events = boto3.client("events")
    bus, email = stack.environment["EVENT_BUS_NAME"], f"op-{uuid.uuid4().hex[:6]}@riveredge.local"
    events.put_rule(
        Name="ops-requested",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["test.ops"], "detail-type": ["operator.requested"]}),
    )
    events.put_targets(
        Rule="ops-requested",
        EventBusName=bus,
        Targets=[{"Id": "fn", "Arn": _function_arn(stack, "OnboardingFunction"), "Input": _bootstrap_input(email)}],
    )
    # When a matching event is published
    events.put_events(
        Entries=[{"EventBusName": bus, "Source": "test.ops", "DetailType": "operator.requested", "Detail": "{}"}]
    )
    # Then the real handler ran: the operator it creates exists and can sign in
    assert _eventually(lambda: _operator_exists(email))
    assert login(stack, "platform", email).status == 200


def test_a_schedule_fires_on_demand_and_from_the_clock(stack: LocalStack) -> None:
    scheduler = boto3.client("scheduler")
    target = _function_arn(stack, "OnboardingFunction")
    first, second = (f"sched-{uuid.uuid4().hex[:6]}@riveredge.local" for _ in range(2))
    scheduler.create_schedule(
        Name="on-demand",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": "arn:aws:iam::123456789012:role/x", "Input": _bootstrap_input(first)},
    )
    # When a schedule is fired on demand, its target runs
    stack.scheduler.fire("on-demand")
    assert login(stack, "platform", first).status == 200
    # And a one-time schedule fires when the local clock reaches it, once
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)
    scheduler.create_schedule(
        Name="one-time",
        ScheduleExpression=f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": target, "RoleArn": "arn:aws:iam::123456789012:role/x", "Input": _bootstrap_input(second)},
    )
    assert not [f for f in stack.scheduler.run_due(moment - timedelta(seconds=10)) if f["name"] == "one-time"]
    fired = [f["name"] for f in stack.scheduler.run_due(moment + timedelta(seconds=1))]
    assert "one-time" in fired
    assert login(stack, "platform", second).status == 200
    assert "one-time" not in [f["name"] for f in stack.scheduler.run_due(moment + timedelta(days=1))]


def test_an_s3_notification_invokes_the_function_with_the_s3_event(stack: LocalStack) -> None:
    # Given a bucket of its own (the template's buckets keep their notifications for the other tests) that
    # notifies a function on new objects, and a record of what that function receives
    s3 = boto3.client("s3")
    bucket = f"notify-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    function = stack.registry.get("OnboardingFunction")
    received: list[dict[str, Any]] = []
    original = function.invoke

    def recording(event: Any) -> Any:
        received.append(event)
        return original(event)

    function.invoke = recording  # type: ignore[method-assign]
    try:
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [{"LambdaFunctionArn": function.arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        # When an object is uploaded
        s3.put_object(Bucket=bucket, Key="tenant-x/report.txt", Body=b"hello")
        # Then the function got the S3 event for it
        assert _eventually(lambda: received)
    finally:
        function.invoke = original  # type: ignore[method-assign]
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    record = received[0]["Records"][0]
    assert unquote_plus(record["s3"]["object"]["key"]) == "tenant-x/report.txt"  # S3 URL-encodes keys in events
    assert record["s3"]["bucket"]["name"] == bucket


def test_resources_come_from_the_template(stack: LocalStack) -> None:
    table = boto3.client("dynamodb").describe_table(TableName=stack.environment["TABLE_NAME"])["Table"]
    declared = load()["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"]
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == sorted(i["IndexName"] for i in declared)
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=stack.environment["TABLE_NAME"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"
    block = boto3.client("s3").get_public_access_block(Bucket=stack.environment["BACKUPS_BUCKET"])
    assert all(block["PublicAccessBlockConfiguration"].values())
    machines = boto3.client("stepfunctions").list_state_machines()["stateMachines"]
    assert any(m["name"] == "riveredge-local-onboarding" for m in machines)


def test_bootstrapping_an_operator_refuses_a_bad_email_or_a_weak_password(stack: LocalStack) -> None:
    import pytest

    # The function fails as Lambda reports it: the error's type and a message naming the field
    with pytest.raises(FunctionError) as bad_email:
        stack.invoke(
            "OnboardingFunction", {"task": "bootstrap_operator", "email": "nope", "name": "X", "password": PASSWORD}
        )
    assert bad_email.value.error_type == "ValidationError"
    assert str(bad_email.value).startswith("email")
    with pytest.raises(FunctionError) as weak:
        stack.invoke(
            "OnboardingFunction",
            {"task": "bootstrap_operator", "email": "weak@riveredge.local", "name": "X", "password": "short"},
        )
    assert weak.value.error_type == "ValidationError"
    assert str(weak.value).startswith("password")
    assert not _operator_exists("weak@riveredge.local")


def test_stats_count_the_mail_sent_raw_and_simple(stack: LocalStack) -> None:
    # Given a raw MIME mail (what the mailer sends) and a simple one in SES's outbox
    ses = boto3.client("ses")
    before = stack.stats()["data"]
    stack.verify_email_identity("stats@riveredge.example")
    raw = "From: stats@riveredge.example\r\nTo: a@example.com\r\nSubject: Raw\r\n\r\nHello raw\r\n"
    ses.send_raw_email(RawMessage={"Data": raw}, Source="stats@riveredge.example", Destinations=["a@example.com"])
    ses.send_email(
        Source="stats@riveredge.example",
        Destination={"ToAddresses": ["b@example.com"]},
        Message={"Subject": {"Data": "Simple"}, "Body": {"Text": {"Data": "Hello simple"}}},
    )
    # When the stack reports what it holds (GET /_local/stats, which the soak reads)
    after = stack.stats()["data"]
    # Then both mails count, with their sizes
    assert after["mail_messages"] == before["mail_messages"] + 2
    assert after["mail_bytes"] - before["mail_bytes"] == len(raw) + len("Simple") + len("Hello simple")
