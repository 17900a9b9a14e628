"""moto's DynamoDB at the cost DynamoDB has: work per item touched, not per item stored.

moto 5.2.5 makes three request-path operations grow with the table:
- `TransactWriteItems` deep-copies every table it names before applying it
  (to roll back on a cancellation), and the copies outlive the request;
- `Query` on the table walks every item of the table to find one partition;
- `Query` on a global secondary index walks every item too.

Under the local stack's moto lock (local_stack.serialise) one action runs at a
time, so a transaction needs to undo only the items it wrote: it keeps a copy
of each item it names before writing it and puts those back when it is
cancelled. A table query starts from its partition; an index query starts from
the items whose index key has the asked value, kept in a map that every write
marks stale for the item it wrote (put, delete, update, rollback). moto's own
code still filters, sorts, pages and projects the candidates, so conditions,
cancellation reasons and results are moto's (docs/decisions/0006).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

ItemKey = tuple[Any, Any]
_INSTALLED = "_riveredge"


# -- the index of global secondary index keys ------------------------------------------
class _IndexKeys:
    """For one table: which items carry each value of each GSI hash attribute."""

    def __init__(self, table: Any) -> None:
        self.attributes = sorted(
            {k["AttributeName"] for index in table.global_indexes for k in index.schema if k["KeyType"] == "HASH"}
        )
        self.by_value: dict[str, dict[Any, dict[ItemKey, None]]] = {a: {} for a in self.attributes}
        self.of_item: dict[ItemKey, dict[str, Any]] = {}
        self.stale: set[ItemKey] = set()
        self.items_id = id(table.items)
        for hash_value, stored in table.items.items():
            if table.range_key_attr:
                for range_value in stored:
                    self._add(table, (hash_value, range_value))
            else:
                self._add(table, (hash_value, None))

    def _add(self, table: Any, key: ItemKey) -> None:
        item = _stored_item(table, key)
        if item is None:
            return
        values = {a: item.attrs[a] for a in self.attributes if a in item.attrs}
        for attribute, value in values.items():
            self.by_value[attribute].setdefault(value, {})[key] = None
        if values:
            self.of_item[key] = values

    def refresh(self, table: Any) -> None:
        for key in self.stale:
            for attribute, value in self.of_item.pop(key, {}).items():
                bucket = self.by_value[attribute].get(value)
                if bucket is not None:
                    bucket.pop(key, None)
                    if not bucket:
                        del self.by_value[attribute][value]
            self._add(table, key)
        self.stale.clear()

    def items_with(self, table: Any, attribute: str, value: Any) -> list[Any]:
        self.refresh(table)
        found = (_stored_item(table, key) for key in self.by_value[attribute].get(value, {}))
        return [item for item in found if item is not None]


def _stored_item(table: Any, key: ItemKey) -> Any:
    hash_value, range_value = key
    stored = table.items.get(hash_value)
    if stored is None:
        return None
    return stored.get(range_value) if table.range_key_attr else stored


def _index_keys(table: Any) -> _IndexKeys:
    keys: _IndexKeys | None = getattr(table, "_riveredge_index_keys", None)
    if keys is None or keys.items_id != id(table.items):  # new, or the items were replaced (a restore)
        keys = _IndexKeys(table)
        table._riveredge_index_keys = keys
    return keys


def _mark_stale(table: Any, key: ItemKey) -> None:
    keys: _IndexKeys | None = getattr(table, "_riveredge_index_keys", None)
    if keys is not None:
        keys.stale.add(key)


def _partition_items(table: Any, hash_key: Any) -> list[Any]:
    stored = table.items.get(hash_key)
    if stored is None:
        return []
    return list(stored.values()) if table.range_key_attr else [stored]


def _candidates(table: Any, arguments: dict[str, Any]) -> list[Any] | None:
    """The items a query can match (None: let moto walk the table)."""
    index_name = arguments.get("index_name")
    hash_key = arguments.get("hash_key")
    if not index_name or any(index.name == index_name for index in table.indexes or []):
        # the table itself, or a local secondary index (it shares the table's partitions)
        return None if hash_key is None else _partition_items(table, hash_key)
    index = next((i for i in table.global_indexes if i.name == index_name), None)
    hash_attributes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"] if index else []
    # an unknown index (moto answers it) or one keyed by several attributes: moto walks the table
    value = dict(arguments.get("hash_key_conditions") or []).get(hash_attributes[0], hash_key) if index else None
    if len(hash_attributes) != 1 or value is None:
        return None
    return _index_keys(table).items_with(table, hash_attributes[0], value)


# -- transactions that undo only what they wrote ---------------------------------------
class _UndoLog:
    """A copy of each item a transaction is about to write, to put back if it is cancelled."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.saved: list[tuple[Any, ItemKey, Any]] = []
        self.stream_marks: dict[int, tuple[Any, int]] = {}

    def remember(self, table_name: str, key: dict[str, Any], current: Any) -> None:
        table = self.backend.get_table(table_name)
        self.saved.append((table, self.backend.get_keys_value(table, key), copy.deepcopy(current)))
        if table.stream_shard is not None and id(table) not in self.stream_marks:
            self.stream_marks[id(table)] = (table, len(table.stream_shard.items))

    def rollback(self) -> None:
        for table, (hash_value, range_value), before in reversed(self.saved):
            if before is None:
                if table.range_key_attr:
                    table.items.get(hash_value, {}).pop(range_value, None)
                else:
                    table.items.pop(hash_value, None)
            elif table.range_key_attr:
                table.items[hash_value][range_value] = before
            else:
                table.items[hash_value] = before
            _mark_stale(table, (hash_value, range_value))
        for table, mark in self.stream_marks.values():
            if len(table.stream_shard.items) >= mark:  # records of the cancelled writes are not seen
                del table.stream_shard.items[mark:]


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    attrs, table = op["Item"], backend.get_table(op["TableName"])
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _write(backend: Any, op_type: str, op: dict[str, Any], key: dict[str, Any], undo: _UndoLog) -> None:
    """One action of a transaction: its condition, then its write (remembered first)."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    table_name, condition = op["TableName"], op.get("ConditionExpression")
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    current = backend.get_item(table_name, key)
    if condition is not None and not get_filter_expression(condition, names, values).expr(current):
        wants_old = op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None
        old = current.to_json()["Attributes"] if wants_old else None
        failed = ConditionalCheckFailed(item=old)
        failed.old_item = old  # type: ignore[attr-defined]  # moto keeps it only in its text; the reason needs it
        raise failed
    if op_type == "ConditionCheck":
        return
    undo.remember(table_name, key, current)
    expression = {
        "condition_expression": condition,
        "expression_attribute_names": names,
        "expression_attribute_values": values,
    }
    if op_type == "Put":
        backend.put_item(table_name, op["Item"], **expression)
    elif op_type == "Delete":
        backend.delete_item(table_name, key, **expression)
    else:
        backend.update_item(table_name, key, update_expression=op["UpdateExpression"], **expression)


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems with an undo log of the items it names instead of a copy of every table."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _UndoLog(self)
    targets: set[tuple[str, str]] = set()
    errors: list[tuple[str, str, dict[str, Any] | None] | tuple[None, None, None]] = []
    for item in transact_items:
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            key = _key_of(self, op_type, op)
            target = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if target in targets:  # one action per item
                raise MultipleTransactionsException()
            targets.add(target)
            _write(self, op_type, op, key, undo)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            undo.rollback()
            raise
        except ConditionalCheckFailed as error:
            errors.append(("ConditionalCheckFailed", str(error.message), getattr(error, "old_item", None)))
        except Exception as error:
            errors.append((type(error).__name__, str(error), None))
    if any(code is not None for code, _, _ in errors):
        undo.rollback()
        raise TransactionCanceledException(errors)


# -- installation ----------------------------------------------------------------------
def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        candidates = _candidates(self, arguments)
        if candidates is None:
            return original(self, *args, **kwargs)
        self.all_items = lambda: candidates  # this call only: moto filters, sorts and pages the candidates
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    return query


def _marking(original: Callable[..., Any], key_of: Callable[..., tuple[Any, ItemKey] | None]) -> Callable[..., Any]:
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            found = key_of(self, *args, **kwargs)
            if found is not None:
                _mark_stale(*found)

    return write


def _put_key(table: Any, item_attrs: dict[str, Any], *_: Any, **__: Any) -> tuple[Any, ItemKey] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    if table.hash_key_attr not in item_attrs:
        return None
    range_value = item_attrs.get(table.range_key_attr) if table.range_key_attr else None
    return table, (DynamoType(item_attrs[table.hash_key_attr]), DynamoType(range_value) if range_value else None)


def _delete_key(table: Any, hash_key: Any, range_key: Any = None, *_: Any, **__: Any) -> tuple[Any, ItemKey]:
    return table, (hash_key, range_key)


def _update_key(backend: Any, table_name: str, key: dict[str, Any], *_: Any, **__: Any) -> tuple[Any, ItemKey] | None:
    try:
        table = backend.get_table(table_name)
        return table, backend.get_keys_value(table, key)
    except Exception:  # moto refused the request; nothing was written
        return None


def install() -> None:
    """Patch moto's DynamoDB backend (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, _INSTALLED, False):
        return
    patched: dict[tuple[type, str], Callable[..., Any]] = {
        (DynamoDBBackend, "transact_write_items"): transact_write_items,
        (DynamoDBBackend, "update_item"): _marking(DynamoDBBackend.update_item, _update_key),
        (Table, "query"): _query(Table.query),
        (Table, "put_item"): _marking(Table.put_item, _put_key),
        (Table, "delete_item"): _marking(Table.delete_item, _delete_key),
    }
    for (owner, name), function in patched.items():
        setattr(function, _INSTALLED, True)
        setattr(owner, name, function)
