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
EVENT_FUNCTIONS = {"authorizer", "onboarding"}  # invoked by API Gateway's authorizer and by Step Functions
SAMPLES = sorted((ROOT / "events").glob("*/*.json"))


def test_every_function_has_sample_events() -> None:
    assert {p.parent.name for p in SAMPLES} == set(FUNCTIONS)


@pytest.mark.parametrize(
    "sample",
    [p for p in SAMPLES if p.parent.name not in EVENT_FUNCTIONS],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
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
