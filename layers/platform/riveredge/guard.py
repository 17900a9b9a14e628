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
from collections.abc import Iterable
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


def partitions_of(operation: str, params: dict[str, Any]) -> Iterable[str | None]:
    """Every partition key value that `operation` with `params` would touch."""
    if operation in {"GetItem", "DeleteItem", "UpdateItem"}:
        yield from _item_partitions(params.get("Key", {})) or [None]
    elif operation == "PutItem":
        yield from _item_partitions(params.get("Item", {})) or [None]
    elif operation == "Query":
        yield from _query_partitions(params)
    elif operation == "BatchGetItem":
        for request in params.get("RequestItems", {}).values():
            for key in request.get("Keys", []):
                yield from _item_partitions(key) or [None]
    elif operation == "BatchWriteItem":
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                if "PutRequest" in request:
                    yield from _item_partitions(request["PutRequest"].get("Item", {})) or [None]
                if "DeleteRequest" in request:
                    yield from _item_partitions(request["DeleteRequest"].get("Key", {})) or [None]
    elif operation in {"TransactGetItems", "TransactWriteItems"}:
        for entry in params.get("TransactItems", []):
            for action in entry.values():
                key = action.get("Key") or action.get("Item") or {}
                yield from _item_partitions(key) or [None]
    else:
        yield None  # Scan and PartiQL have no partition we can vouch for


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
