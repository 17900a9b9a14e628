"""Tenants' JSON Schemas: refused when they cannot be stored (naming the field), applied without the network."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from riveredge import json_schemas


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ([], "must be a JSON Schema"),
        ({"type": "strin"}, "is not a valid JSON Schema at /type"),
        ({"pattern": "("}, "is not a valid JSON Schema at /pattern"),
        ({"$ref": "http://169.254.169.254/latest/meta-data"}, "must not use $ref"),
        ({"properties": {"a": {"$dynamicRef": "#node"}}}, "must not use $dynamicRef"),
        ({"$id": "https://schemas.example.com/a", "type": "object"}, "must not use $id"),
    ],
)
def test_a_schema_that_cannot_be_stored_is_refused_naming_the_field(schema: Any, says: str) -> None:
    problems = json_schemas.problems(schema, "parameters.0.schema")
    assert [p.field for p in problems] == ["parameters.0.schema"]
    assert says in problems[0].message


def test_a_schema_nested_past_the_limit_is_refused_before_it_is_checked() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(json_schemas.MAX_DEPTH + 1):
        deep = {"items": deep}
    assert "nested more than" in json_schemas.problems(deep, "request_body")[0].message


def test_a_property_named_ref_is_a_property_not_a_reference() -> None:
    schema = {"type": "object", "properties": {"$ref": {"type": "string"}}, "required": ["$ref"]}
    assert json_schemas.problems(schema, "request_body") == []
    assert json_schemas.errors(schema, {"$ref": "x"}, "body") == []


def test_errors_name_where_the_value_breaks_the_schema() -> None:
    schema = {
        "type": "object",
        "required": ["lines"],
        "properties": {
            "email": {"format": "email"},
            "lines": {"type": "array", "items": {"type": "object", "properties": {"qty": {"type": "integer"}}}},
        },
    }
    found = json_schemas.errors(schema, {"email": "not-an-address", "lines": [{"qty": 1}, {"qty": "two"}]}, "body")
    assert [p.field for p in found] == ["body.email", "body.lines.1.qty"]
    assert json_schemas.errors(schema, {"lines": []}, "body") == []
    assert len(json_schemas.errors({"type": "integer"}, "x", "q", limit=1)) == 1


def test_a_remote_reference_is_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a schema stored before references were refused, naming the metadata address
    fetched: list[Any] = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *args, **kwargs: fetched.append(args))
    schema = {"$ref": "http://169.254.169.254/latest/meta-data"}
    # When a value is checked against it, then nothing is fetched and the reference is reported unresolved
    found = json_schemas.errors(schema, 1, "body")
    assert fetched == []
    assert [p.field for p in found] == ["body"] and "cannot be resolved" in found[0].message
