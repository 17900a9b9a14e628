"""The tenant guard: no DynamoDB request leaves the process with another scope's keys.

It is a botocore ``before-call`` handler, registered on every botocore session
created after this module is imported (boto3's, PynamoDB's, Powertools'), so
it runs in production as well as in tests. It refuses, before anything is sent:
- any item operation when no scope is set (fail closed);
- any partition key (``pk`` or a GSI's) that does not start with a prefix the
  current scope allows;
- Scan, always: no request path may scan.
Requests that do not touch items (CreateTable, DescribeTable...) pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import botocore.handlers

from riveredge.errors import TenantIsolationError
from riveredge.keys import PARTITION_KEYS
from riveredge.scope import current_scope

_EQUALITY = re.compile(r"(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)")
_ITEM_OPERATIONS = {
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
}


def _string(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("S")
    return value if isinstance(value, str) else None


def _item_partitions(key_or_item: dict[str, Any]) -> list[str | None]:
    return [_string(v) for k, v in key_or_item.items() if k in PARTITION_KEYS]


def _query_partitions(params: dict[str, Any]) -> list[str | None]:
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    found: list[str | None] = []
    for name, placeholder in _EQUALITY.findall(params.get("KeyConditionExpression", "")):
        attribute = names.get(name, name)
        if attribute in PARTITION_KEYS:
            found.append(_string(values.get(placeholder)))
    return found or [None]


def _key_of(field: str) -> Callable[[dict[str, Any]], list[str | None]]:
    return lambda params: _item_partitions(params.get(field, {})) or [None]


def _batch_get(params: dict[str, Any]) -> list[str | None]:
    return [
        p
        for request in params.get("RequestItems", {}).values()
        for key in request.get("Keys", [])
        for p in (_item_partitions(key) or [None])
    ]


def _batch_write(params: dict[str, Any]) -> list[str | None]:
    found: list[str | None] = []
    for requests in params.get("RequestItems", {}).values():
        for request in requests:
            write = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
            found.extend(_item_partitions(write) or [None])
    return found


def _transact(params: dict[str, Any]) -> list[str | None]:
    found: list[str | None] = []
    for entry in params.get("TransactItems", []):
        for action in entry.values():
            found.extend(_item_partitions(action.get("Key") or action.get("Item") or {}) or [None])
    return found


_PARTITIONS: dict[str, Callable[[dict[str, Any]], list[str | None]]] = {
    "GetItem": _key_of("Key"),
    "DeleteItem": _key_of("Key"),
    "UpdateItem": _key_of("Key"),
    "PutItem": _key_of("Item"),
    "Query": _query_partitions,
    "BatchGetItem": _batch_get,
    "BatchWriteItem": _batch_write,
    "TransactGetItems": _transact,
    "TransactWriteItems": _transact,
}


def partitions_of(operation: str, params: dict[str, Any]) -> list[str | None]:
    """Every partition key value that `operation` with `params` would touch (None: one we cannot vouch for)."""
    extract = _PARTITIONS.get(operation)
    return extract(params) if extract else [None]  # Scan and PartiQL name no partition


def check(operation: str, params: dict[str, Any]) -> None:
    """Raise TenantIsolationError unless every key of the request belongs to the scope."""
    if operation not in _ITEM_OPERATIONS:
        return
    scope = current_scope()
    if scope is None:
        raise TenantIsolationError(f"DynamoDB {operation} outside of any tenancy scope")
    allowed = scope.allowed_prefixes()
    for partition in partitions_of(operation, params):
        if partition is None or not partition.startswith(allowed):
            raise TenantIsolationError(f"DynamoDB {operation} on {partition!r} is outside scope {scope.prefix}")


def _provide_client_params(model: Any, params: dict[str, Any], **_: Any) -> None:
    check(model.name, params)


_HANDLER = ("provide-client-params.dynamodb", _provide_client_params)


def install() -> None:
    """Register the guard on every botocore session created from now on (idempotent)."""
    if _HANDLER not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(_HANDLER)


install()
