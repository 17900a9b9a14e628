"""The operation log: who did what, when, with the object before and after.

An entry is written in the same transaction as the change it describes, so a
change without its entry (or an entry without its change) cannot exist.
"""

from __future__ import annotations

from typing import Any

from riveredge import keys
from riveredge.clock import new_id
from riveredge.db.base import Transaction
from riveredge.db.models import OperationLogEntry
from riveredge.scope import Scope

_REDACTED = {"password", "password_hash", "refresh_digest", "previous_refresh_digest", "secret"}


def _redact(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: ("[redacted]" if k in _REDACTED else v) for k, v in value.items()}


def record(
    tx: Transaction,
    scope: Scope,
    *,
    actor_id: str,
    action: str,
    resource: str,
    resource_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None = None,
) -> OperationLogEntry:
    """Add an operation-log entry for `scope` to the transaction `tx`."""
    key = keys.oplog(scope, new_id())
    entry = OperationLogEntry(
        key.pk,
        key.sk,
        actor_id=actor_id,
        action=action,
        resource=resource,
        resource_id=resource_id,
        before=_redact(before),
        after=_redact(after),
        request_id=request_id,
    )
    tx.save(entry, condition=OperationLogEntry.pk.does_not_exist())
    return entry
