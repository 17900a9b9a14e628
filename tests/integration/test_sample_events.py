"""The sample events in events/ are real: each runs through its function's handler without a server error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from riveredge.spreadsheets import XLSX_MEDIA_TYPE

from local_stack.stack import LocalStack
from local_stack.template import ROOT, load

FUNCTIONS = {  # events/<folder>/ -> the function whose CodeUri is functions/<folder>/
    Path(str(r["Properties"]["CodeUri"])).name: logical_id
    for logical_id, r in load()["Resources"].items()
    if r["Type"] == "AWS::Serverless::Function"
}
SAMPLES = sorted((ROOT / "events").glob("*/*.json"))
API_SAMPLES = [p for p in SAMPLES if {"httpMethod"} == json.loads(p.read_text()).keys() & {"httpMethod", "methodArn"}]
# queue, stream and bus deliveries: their samples name a tenant that does not exist here
CONSUMER_SAMPLES = [p for p in SAMPLES if {"Records", "detail-type"} & json.loads(p.read_text()).keys()]


def test_every_function_has_sample_events() -> None:
    assert {p.parent.name for p in SAMPLES} == set(FUNCTIONS)


@pytest.mark.parametrize("sample", API_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_api_samples_answer_without_a_server_error(stack: LocalStack, sample: Path) -> None:
    answer = stack.invoke(FUNCTIONS[sample.parent.name], json.loads(sample.read_text()))
    assert 200 <= answer["statusCode"] < 500, answer
    headers = {**(answer.get("headers") or {}), **{k: v[0] for k, v in (answer.get("multiValueHeaders") or {}).items()}}
    if answer["statusCode"] == 204:
        return
    assert headers["Content-Type"] in ("application/json", "application/problem+json", XLSX_MEDIA_TYPE)  # exports


def test_the_authorizer_sample_is_refused_as_api_gateway_expects(stack: LocalStack) -> None:
    event = json.loads((ROOT / "events/authorizer/request.json").read_text())
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        stack.invoke("AuthorizerFunction", event)


@pytest.mark.parametrize("sample", CONSUMER_SAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_consumer_samples_are_refused_for_their_unknown_tenant_not_failed(stack: LocalStack, sample: Path) -> None:
    # A sample's tenant does not exist in this stack: the consumer refuses it (dead-letter queue, with the
    # reason) and the invocation itself succeeds, so nothing is retried
    answer = stack.invoke(FUNCTIONS[sample.parent.name], json.loads(sample.read_text()))
    if isinstance(answer, dict) and "batchItemFailures" in answer:
        assert answer["batchItemFailures"] == []
    reasons = _dead_letter_reasons(stack, sample.parent.name)
    assert any("unknown tenant" in r for r in reasons), reasons


def _dead_letter_reasons(stack: LocalStack, folder: str) -> list[str]:
    import boto3

    logical_id = FUNCTIONS[folder]
    url = stack.registry.get(logical_id).spec.environment["DEAD_LETTER_QUEUE_URL"]
    sqs = boto3.client("sqs")
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    for message in found.get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [m["MessageAttributes"]["reason"]["StringValue"] for m in found.get("Messages", [])]
