"""The files bucket's consumer on real S3 events: once per object version, inside the tenant its key names,
only for the file manager's keys."""

from __future__ import annotations

import time
from typing import Any

import boto3
from riveredge import keys
from riveredge.db.files import File
from riveredge.db.models import OutboxEvent
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture
from tests.integration.test_files import FILES, png, post_form, presign, settled, upload, usage

CONSUMER = "FileEventsFunction"
NO_TENANT = "01HZZZZZZZZZZZZZZZZZZZZZZZ"


def _bucket(stack: LocalStack) -> str:
    return stack.environment["FILES_BUCKET"]


def _event(stack: LocalStack, key: str, *, name: str = "ObjectCreated:Post", version: str | None = None) -> Any:
    found: dict[str, Any] = {"key": key, "size": 1, "eTag": "0"}
    if version is not None:
        found["versionId"] = version
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": name,
                "s3": {"bucket": {"name": _bucket(stack)}, "object": found},
            }
        ]
    }


def _file(tenant_id: str, file_id: str) -> File:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return File.get_or_404(keys.file(scope, file_id))


def _settlement(tenant_id: str, file_id: str) -> tuple[Any, ...]:
    """What the consumer writes on a file (the preview consumer writes other attributes, and the version)."""
    item = _file(tenant_id, file_id)
    return (item.status, item.size, item.sha256, item.content_type, item.object_version, item.stored_at)


def _stored_events(tenant_id: str, file_id: str) -> int:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return sum(
            1
            for e in OutboxEvent.query(keys.collection(scope, "OUTBOX"))
            if isinstance(e, OutboxEvent) and e.detail_type == "file.stored" and dict(e.detail)["file_id"] == file_id
        )


def _version(stack: LocalStack, key: str) -> str:
    return str(boto3.client("s3").head_object(Bucket=_bucket(stack), Key=key)["VersionId"])


def test_the_same_event_twice_has_one_effect(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    item = upload(stack, token, b"once only")
    key = f"{fresh_tenant.id}/files/{item['id']}/original"
    before = (
        _settlement(fresh_tenant.id, item["id"]),
        usage(stack, token),
        _stored_events(fresh_tenant.id, item["id"]),
    )
    # When S3 delivers the event of that object's version again (twice)
    event = _event(stack, key, version=_version(stack, key))
    stack.invoke(CONSUMER, event)
    stack.invoke(CONSUMER, event)
    # Then nothing changed: not the file, not the quota, no second file.stored
    after = (_settlement(fresh_tenant.id, item["id"]), usage(stack, token), _stored_events(fresh_tenant.id, item["id"]))
    assert after == before
    assert before[2] == 1 and before[1]["count"]["used"] == 1


def test_an_event_cannot_reach_another_tenants_file(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    item = upload(stack, acme.admin_token, b"acme's")
    real_key = f"{acme.id}/files/{item['id']}/original"
    version = _version(stack, real_key)
    seen = _settlement(acme.id, item["id"])
    # When an event names acme's file id under globex's prefix
    stack.invoke(CONSUMER, _event(stack, f"{globex.id}/files/{item['id']}/original", version=version))
    # Then acme's file and object are as they were (the consumer looked in globex only, and found nothing)
    assert _settlement(acme.id, item["id"]) == seen
    assert boto3.client("s3").head_object(Bucket=_bucket(stack), Key=real_key)["VersionId"] == version


def test_keys_other_than_files_are_left_alone_and_an_unknown_tenant_is_refused(
    stack: LocalStack, acme: TenantFixture
) -> None:
    s3 = boto3.client("s3")
    # An avatar of the tenant (not a file of the file manager) is skipped
    avatar = f"{acme.id}/avatars/someone.png"
    s3.put_object(Bucket=_bucket(stack), Key=avatar, Body=png(), ContentType="image/png")
    stack.invoke(CONSUMER, _event(stack, avatar, name="ObjectCreated:Put"))
    assert s3.head_object(Bucket=_bucket(stack), Key=avatar)["ContentLength"] == len(png())
    # An event of a tenant that does not exist goes to the dead-letter queue with its reason
    key = f"{NO_TENANT}/files/{NO_TENANT}/original"
    stack.invoke(CONSUMER, _event(stack, key, version="v1"))
    sqs = boto3.client("sqs")
    queue = stack.registry.get(CONSUMER).spec.environment["DEAD_LETTER_QUEUE_URL"]
    reasons = []
    deadline = time.monotonic() + 10
    while not reasons and time.monotonic() < deadline:
        # VisibilityTimeout 0: other consumers' refusals in the same queue stay visible to their own tests
        for message in sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=0
        ).get("Messages", []):
            attributes = message.get("MessageAttributes", {})
            if attributes.get("event_id", {}).get("StringValue", "").endswith(key):
                reasons.append(attributes["reason"]["StringValue"])
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    assert reasons and "unknown tenant" in reasons[0], reasons


def test_a_second_post_through_the_same_form_does_not_replace_the_settled_bytes(
    stack: LocalStack, acme: TenantFixture
) -> None:
    token = acme.admin_token
    first = png(2, 2)
    reply = presign(stack, token, "photo.png", "image/png", 200)
    form, file_id = reply.json()["upload"], reply.json()["file"]["id"]
    assert post_form(form, "photo.png", first, "image/png").status_code in (200, 204)
    ready = settled(stack, token, file_id)
    assert ready["status"] == "ready"
    # When the same (still valid) form posts other bytes
    assert post_form(form, "photo.png", b"#!/bin/sh\nrm -rf /\n", "image/png").status_code in (200, 204)
    # Then the consumer deletes that version, and the download is still the checked bytes
    s3 = boto3.client("s3")
    key = form["key"]
    deadline = time.monotonic() + 30
    while len(s3.list_object_versions(Bucket=_bucket(stack), Prefix=key).get("Versions", [])) > 1:
        assert time.monotonic() < deadline, "the second version was not deleted"
        time.sleep(0.05)
    link = stack.request("GET", f"{FILES}/{file_id}/download", token=token).json()["url"]
    import requests

    assert requests.get(link, timeout=10).content == first
    assert _settlement(acme.id, file_id)[:3] == ("ready", len(first), ready["sha256"])
