"""System parameters: a tenant's typed settings, read from a per-container cache.

A parameter has a key, a type (``string``, ``number``, ``boolean`` or ``json``, the last optionally
constrained by a JSON Schema), a value of that type, and flags: ``editable`` (False: set when created,
or by an import, and never changed after) and ``secret`` (masked on every read of the API). Read them::

    from riveredge import parameters

    parameters.get(scope, "upload.max_mb", 20)   # the value, or the default when the tenant has none
    parameters.values(scope)                     # every key -> value

All of a tenant's parameters are loaded with one Query and kept per container until a change of any of
them moves the ``parameters`` stamp (:mod:`riveredge.config_cache`). :func:`problem` is the one check of
a value against its type, used by every write.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Literal

from riveredge import config_cache, keys
from riveredge.db.config import Parameter
from riveredge.scope import Scope

KIND = "parameters"
ParameterType = Literal["string", "number", "boolean", "json"]
MASK = "******"


def _load(scope: Scope) -> MappingProxyType[str, Any]:
    found = Parameter.query(keys.parameters(scope))
    return MappingProxyType({p.key: p.value for p in found if isinstance(p, Parameter)})


def values(scope: Scope) -> MappingProxyType[str, Any]:
    """Every parameter of the tenant, key -> value (secret ones included: this is the server side)."""
    return config_cache.cached(scope, KIND, "*", lambda: _load(scope))


def get(scope: Scope, key: str, default: Any = None) -> Any:
    return values(scope).get(key, default)


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a JSON Schema (draft 2020-12) we can check values against (None: it is); the rules of
    riveredge.json_schemas (no references: a ``$ref`` to a URL would make the validator fetch it)."""
    from riveredge import json_schemas

    found = json_schemas.problems(schema, "json_schema")
    return found[0].message if found else None


def _json_problem(value: Any, schema: dict[str, Any] | None) -> str | None:
    if schema is None:
        return None
    from riveredge import json_schemas

    found = json_schemas.errors(schema, value, "value", limit=1)
    if not found:
        return None
    where = found[0].field.removeprefix("value").removeprefix(".").replace(".", "/")
    return f"breaks its schema{f' at /{where}' if where else ''}: {found[0].message}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value  # noqa: PLR0124 (NaN)


_CHECKS = {
    "string": lambda v: None if isinstance(v, str) else "must be a string",
    "number": lambda v: None if _is_number(v) else "must be a number",
    "boolean": lambda v: None if isinstance(v, bool) else "must be true or false",
}


def problem(kind: str, value: Any, schema: dict[str, Any] | None = None) -> str | None:
    """Why `value` is not a value of type `kind` (and of `schema` for json); None when it is."""
    if kind == "json":
        return _json_problem(value, schema)
    check = _CHECKS.get(kind)
    return check(value) if check else f"has an unknown type '{kind}'"
