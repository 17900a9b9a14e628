"""The local stack's pure parts: schedule expressions and the template reader."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local_stack.scheduler import next_fire
from local_stack.template import Resolver, load, merged_function_properties

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_rate_expressions() -> None:
    assert next_fire("rate(5 minutes)", NOON) == datetime(2026, 11, 23, 12, 5, tzinfo=UTC)
    assert next_fire("rate(1 day)", NOON) == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_aws_cron_expressions_with_six_fields() -> None:
    assert next_fire("cron(30 2 * * ? *)", NOON) == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="six fields"):
        next_fire("cron(30 2 * * ?)", NOON)


def test_one_time_expressions_fire_once() -> None:
    assert next_fire("at(2026-11-23T13:00:00)", NOON) == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
    assert next_fire("at(2026-11-23T11:00:00)", NOON) is None


def test_the_resolver_handles_ref_sub_and_getatt() -> None:
    resolver = Resolver({"Stage": "dev"}, "123456789012", "eu-west-1")
    resolver.refs["Table"] = "riveredge-dev"
    resolver.attributes[("Fn", "Arn")] = "arn:aws:lambda:eu-west-1:123456789012:function:fn"
    value = {
        "a": {"Ref": "Table"},
        "b": {"Fn::Sub": "x-${Stage}-${AWS::Region}-${Fn.Arn}"},
        "c": {"Fn::GetAtt": ["Fn", "Arn"]},
        "d": {"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]},
    }
    assert resolver.resolve(value) == {
        "a": "riveredge-dev",
        "b": "x-dev-eu-west-1-arn:aws:lambda:eu-west-1:123456789012:function:fn",
        "c": value["c"] and resolver.get_att("Fn", "Arn"),
        "d": "a-dev",
    }


def test_functions_get_the_globals_and_their_own_environment() -> None:
    template = load()
    tenants = merged_function_properties(template, "TenantsFunction")
    assert tenants["Runtime"] == "python3.13" and tenants["Architectures"] == ["arm64"]
    assert {"TABLE_NAME", "MAIL_QUEUE_URL", "POWERTOOLS_SERVICE_NAME"} <= tenants["Environment"]["Variables"].keys()
