"""JSON Schemas that tenants write (the API registry's parameters, bodies and responses): checked when saved,
applied without ever reaching the network.

`problems(schema, field) -> list[FieldProblem]`
    Why `schema` cannot be stored (none: it can): not an object (or a boolean schema), nested deeper than
    :data:`MAX_DEPTH`, a reference keyword (``$ref``, ``$dynamicRef``, ``$id``), or not a valid draft 2020-12
    schema (``check_schema``; a ``pattern`` that is no valid regular expression is refused there too).

`errors(schema, value, field, limit=10) -> list[FieldProblem]`
    What `value` breaks of `schema`, each naming where (``field.items.0.name``), formats asserted.

jsonschema's default registry *retrieves* a ``$ref`` to an http(s) URL it does not know (with a deprecation
warning): a schema naming ``http://169.254.169.254/...`` would make the server fetch it. Schemas are
therefore validated with an empty :class:`referencing.Registry` (nothing is ever retrieved), and references
are refused when saved: a ``$ref`` inside a schema embedded in an OpenAPI document would also resolve
against that document rather than the schema, so a registry export could not carry it faithfully.
jsonschema is imported on first use, so only the functions that check schemas pay for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from riveredge.errors import FieldProblem

MAX_DEPTH = 32
_REFERENCES = ("$ref", "$dynamicRef", "$id")


def _walk(value: Any, depth: int = 0) -> Iterator[str]:
    """Each reference keyword found, and "" once past MAX_DEPTH, depth first."""
    if depth > MAX_DEPTH:
        yield ""
        return
    if isinstance(value, dict):
        for keyword in _REFERENCES:
            if isinstance(value.get(keyword), str):  # a *property* named "$ref" has a schema, not a string
                yield keyword
        for child in value.values():
            yield from _walk(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, depth + 1)


def problems(schema: Any, field: str) -> list[FieldProblem]:
    """Why `schema` is not a JSON Schema (draft 2020-12) the platform can store and apply; [] when it is."""
    if not isinstance(schema, dict | bool):
        return [FieldProblem(field, "must be a JSON Schema (an object)")]
    for keyword in _walk(schema):
        if not keyword:
            return [FieldProblem(field, f"is nested more than {MAX_DEPTH} levels deep")]
        return [FieldProblem(field, f"must not use {keyword}: write the schema out in full (references are not kept)")]
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(p) for p in error.absolute_path)
        return [FieldProblem(field, f"is not a valid JSON Schema{f' at /{where}' if where else ''}: {error.message}")]
    return []


def errors(schema: Any, value: Any, field: str, limit: int = 10) -> list[FieldProblem]:
    """What `value` breaks of `schema` (a stored schema: see :func:`problems`), at most `limit` problems, each
    naming the place in `value` under `field`; [] when it matches."""
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry
    from referencing.exceptions import Unresolvable

    validator = Draft202012Validator(schema, registry=Registry(), format_checker=FormatChecker())
    found: list[FieldProblem] = []
    try:
        for error in sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path]):
            where = ".".join(str(p) for p in error.absolute_path)
            found.append(FieldProblem(f"{field}.{where}" if where else field, error.message[:300]))
            if len(found) >= limit:
                break
    except Unresolvable as error:  # stored before references were refused: never fetched, reported
        return [FieldProblem(field, f"its schema has a reference that cannot be resolved: {error}"[:300])]
    return found
