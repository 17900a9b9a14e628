"""The one write path: a change, its operation-log entry and its outbox events in one TransactWriteItems.

Every repository writes through :func:`change`::

    before = user.snapshot()
    user.status = "disabled"
    with change(actor, "user.disable", user, before=before) as c:
        c.save(user)                                  # version-checked: a stale read is a 412
        c.save(credential)
        c.publish("user.disabled", {"user_id": user.user_id}, source="users")

On leaving the block the operation-log entry of the subject is added (its
``snapshot()`` before and after, ``None`` after for a deleted subject) and the
transaction commits. When DynamoDB cancels it, the first item whose condition
failed decides the answer: what its write said (``conflict=`` a 409,
``missing=`` a 404, ``stale=`` a 412), a 412 for an item that said nothing, a
409 when nothing failed a condition (a concurrent transaction: try again).
:attr:`Change.failed` tells the caller which keys failed, for retries.

The operation log (who did what, when, the object before and after) is therefore
written in the same transaction as the change it describes: a change without its
entry, or an entry without its change, cannot exist. Secrets never reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from riveredge import keys, outbox
from riveredge.clock import new_id
from riveredge.db.base import TableModel, Transaction, new_transaction
from riveredge.db.models import OperationLogEntry
from riveredge.errors import ConflictError, DomainError, NotFoundError, PreconditionFailedError
from riveredge.scope import Scope

SYSTEM = "system"


class Author(Protocol):
    """Who makes a change: a request's :class:`riveredge.actor.Actor`, or :class:`System` in a consumer."""

    @property
    def scope(self) -> Scope: ...

    @property
    def user_id(self) -> str: ...

    @property
    def request_id(self) -> str | None: ...


@dataclass(frozen=True)
class System:
    """A change no person asked for (onboarding, a job, a consumer), in `scope`."""

    scope: Scope
    user_id: str = SYSTEM
    request_id: str | None = None


@runtime_checkable
class Logged(Protocol):
    """An entity with one logged shape: the operation log shows it before and after every change."""

    noun: ClassVar[str]

    @property
    def object_id(self) -> str: ...

    def snapshot(self) -> dict[str, Any]: ...


class Change:
    """The writes of one change, each with what its failed condition means to the caller."""

    def __init__(self, tx: Transaction, author: Author, action: str, subject: Logged | None) -> None:
        self.tx = tx
        self.author = author
        self.action = action
        self.subject = subject
        self.failed: set[tuple[str, str]] = set()
        self._refusals: dict[tuple[str, str], DomainError] = {}
        self._deleted: set[tuple[str, str]] = set()
        self.event_ids: list[str] = []

    def _refuse(self, item: TableModel, default: DomainError, *meanings: DomainError | None) -> None:
        self._refusals[(item.pk, item.sk)] = next((m for m in meanings if m is not None), default)

    def _stale(self, item: TableModel) -> PreconditionFailedError:
        return PreconditionFailedError(f"the {item.noun} has changed since it was read; read it again")

    def create(self, item: TableModel, *, conflict: str) -> None:
        """Put a new item; one that exists already (a taken id, code or email) is the 409 `conflict`."""
        self.tx.save(item, condition=type(item).pk.does_not_exist())
        self._refuse(item, ConflictError(conflict))

    def save(
        self,
        item: TableModel,
        *,
        condition: Condition | None = None,
        stale: str | None = None,
        conflict: str | None = None,
    ) -> None:
        """Put `item` on the version read (and `condition`); a failure is a 412 (`stale`) or the 409 `conflict`."""
        self.tx.save(item, condition=condition)
        self._refuse(item, self._stale(item), _maybe(ConflictError, conflict), _maybe(PreconditionFailedError, stale))

    def update(
        self,
        item: TableModel,
        actions: list[Action],
        *,
        condition: Condition | None = None,
        versioned: bool = True,
        stale: str | None = None,
        conflict: str | None = None,
        missing: str | None = None,
    ) -> None:
        """Apply `actions` to `item` (on the version read unless `versioned` is False)."""
        self.tx.update(item, actions=actions, condition=condition, add_version_condition=versioned)
        self._refuse(
            item,
            self._stale(item),
            _maybe(ConflictError, conflict),
            _maybe(NotFoundError, missing),
            _maybe(PreconditionFailedError, stale),
        )

    def delete(
        self,
        item: TableModel,
        *,
        condition: Condition | None = None,
        versioned: bool = True,
        stale: str | None = None,
        conflict: str | None = None,
    ) -> None:
        """Delete `item` (on the version read unless `versioned` is False)."""
        self.tx.delete(item, condition=condition, add_version_condition=versioned)
        self._deleted.add((item.pk, item.sk))
        self._refuse(item, self._stale(item), _maybe(ConflictError, conflict), _maybe(PreconditionFailedError, stale))

    def check(
        self,
        model: type[TableModel],
        key: keys.Key,
        condition: Condition,
        *,
        conflict: str | None = None,
        missing: str | None = None,
    ) -> None:
        """Require `condition` of an item this change does not write (a parent still there, not moving)."""
        self.tx.condition_check(model, key.pk, key.sk, condition=condition)
        probe = model(key.pk, key.sk)
        self._refuse(
            probe,
            ConflictError(conflict or "a related object changed meanwhile; try again"),
            _maybe(NotFoundError, missing),
        )

    def publish(self, detail_type: str, detail: dict[str, Any], *, source: str, scope: Scope | None = None) -> str:
        """Announce `detail_type` from `source` (the domain: bus rules match ``riveredge.<source>``) through the
        outbox when the change commits, for `scope`'s tenant (the author's by default); answers the event id."""
        event_id = outbox.add(self.tx, scope or self.author.scope, source, detail_type, detail)
        self.event_ids.append(event_id)
        return event_id

    def log(
        self,
        action: str,
        resource: str,
        resource_id: str,
        *,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        scope: Scope | None = None,
    ) -> OperationLogEntry:
        """An operation-log entry of this change (the subject's own is added on leaving the block)."""
        key = keys.oplog(scope or self.author.scope, new_id())
        entry = OperationLogEntry(
            key.pk,
            key.sk,
            actor_id=self.author.user_id,
            action=action,
            resource=resource,
            resource_id=resource_id,
            before=_redact(before),
            after=_redact(after),
            request_id=self.author.request_id,
        )
        self.tx.save(entry, condition=OperationLogEntry.pk.does_not_exist())
        return entry

    def refusal(self, error: TransactWriteError) -> Exception:
        """What the caller answers for a cancelled transaction (the error itself for a fault)."""
        if error.cause_response_code != "TransactionCanceledException":
            return error
        sent = [*self.tx._condition_check_items, *self.tx._delete_items, *self.tx._put_items, *self.tx._update_items]
        reasons = list(getattr(error, "cancellation_reasons", None) or [])
        ordered = []
        for reason, item in zip(reasons, sent, strict=False):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                key = item.get("Key") or item.get("Item") or {}
                ordered.append((str(key["pk"]["S"]), str(key["sk"]["S"])))
        self.failed = set(ordered)
        meant = [self._refusals[key] for key in ordered if key in self._refusals]
        if meant:
            return _copy(meant[0])
        if ordered or not reasons:  # a condition failed (or DynamoDB did not say which)
            subject = self._refusals.get(_key(self.subject)) if isinstance(self.subject, TableModel) else None
            return _copy(subject) if subject else PreconditionFailedError("something changed since it was read")
        return ConflictError("another change of the same objects was in progress; try again")


def _key(item: TableModel) -> tuple[str, str]:
    return (item.pk, item.sk)


_REDACTED = {"password", "password_hash", "refresh_digest", "previous_refresh_digest", "secret"}


def _redact(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A logged shape without secrets (an entity's snapshot holds none; a hand-written one might)."""
    if value is None:
        return None
    return {k: ("[redacted]" if k in _REDACTED else v) for k, v in value.items()}


def _maybe(kind: type[DomainError], message: str | None) -> DomainError | None:
    return kind(message) if message is not None else None


def _copy(error: DomainError) -> DomainError:
    """A fresh error for each refusal (an exception object is not raised twice)."""
    return type(error)(error.detail)


@contextmanager
def change(
    author: Author,
    action: str,
    subject: Logged | None = None,
    *,
    before: dict[str, Any] | None = None,
    log_scope: Scope | None = None,
) -> Iterator[Change]:
    """One change by `author`: the writes added in the block, the subject's log entry, one transaction.

    `subject` is the entity the change is about (its log entry shows `before` and its snapshot after;
    nothing after if the block deleted it); without one, the block logs what it wants with :meth:`Change.log`.
    `log_scope` is where the entry goes when it is not the author's scope (an operator changing a tenant).
    """
    tx = new_transaction()
    current = Change(tx, author, action, subject)
    try:
        with tx:
            yield current
            if subject is not None:
                deleted = isinstance(subject, TableModel) and (subject.pk, subject.sk) in current._deleted
                current.log(
                    action,
                    subject.noun,
                    subject.object_id,
                    before=before,
                    after=None if deleted else subject.snapshot(),
                    scope=log_scope,
                )
    except TransactWriteError as error:
        raise current.refusal(error) from error


def expect_version(item: TableModel, expected: int | None) -> None:
    """Refuse (412) a change the caller asked for on a version other than the one just read."""
    current = int(item.version or 0)
    if expected is not None and expected != current:
        raise PreconditionFailedError(f"the {item.noun} is at version {current}, not {expected}")
