"""Department and position persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.pagination import ResultIterator
from riveredge import keys, oplog
from riveredge.db import TableModel, condition_failed, transaction
from riveredge.db.base import Transaction
from riveredge.db.models import Department, DepartmentCode, Position, PositionCode, User
from riveredge.errors import ConflictError, NotFoundError, PreconditionFailedError
from riveredge.scope import Scope

ATOMIC_ITEMS = 100  # the most items one TransactWriteItems may hold


def _failed(tx: Transaction, error: TransactWriteError) -> set[tuple[str, str]]:
    """The (pk, sk) of each item of `tx` that failed its condition.

    DynamoDB gives one cancellation reason per item, in the order sent; PynamoDB sends the condition checks,
    then the deletes, the puts and the updates, each in the order they were added.
    """
    sent = [*tx._condition_check_items, *tx._delete_items, *tx._put_items, *tx._update_items]
    failed = set()
    for reason, item in zip(getattr(error, "cancellation_reasons", None) or [], sent, strict=False):
        if reason is not None and reason.code == "ConditionalCheckFailed":
            key = item.get("Key") or item.get("Item") or {}
            failed.add((str(key["pk"]["S"]), str(key["sk"]["S"])))
    return failed


# -- departments ----------------------------------------------------------------------
def find_department(scope: Scope, department_id: str) -> Department | None:
    key = keys.department(scope, department_id)
    try:
        return Department.get(key.pk, key.sk, consistent_read=True)
    except Department.DoesNotExist:
        return None


def tree(scope: Scope, under: str | None = None) -> list[Department]:
    """Every department of `scope`, or those at or below the path `under`: one Query (per 1 MB page)."""
    condition = Department.gsi1sk.startswith(under) if under else None
    results = Department.gsi1.query(keys.department_tree_index(scope), condition)
    return [d for d in results if isinstance(d, Department)]


def user_exists(scope: Scope, user_id: str) -> bool:
    key = keys.user(scope, user_id)
    try:
        User.get(key.pk, key.sk, attributes_to_get=["pk"])
    except User.DoesNotExist:
        return False
    return True


def has_children(scope: Scope, department: Department) -> bool:
    """Whether a department lies below `department` (a begins_with Query of two items at most)."""
    below = Department.gsi1.query(
        keys.department_tree_index(scope), Department.gsi1sk.startswith(department.path), limit=2
    )
    return any(d.sk != department.sk for d in below)


def has_positions(scope: Scope, department_id: str) -> bool:
    found = Position.gsi1.query(keys.department_positions_index(scope, department_id), limit=1)
    return any(True for _ in found)


def has_members(scope: Scope, path: str) -> bool:
    """Whether an account belongs to the department at `path` or below it."""
    found = User.gsi2.query(keys.user_tree_index(scope), User.gsi2sk.startswith(path), limit=1)
    return any(True for _ in found)


def create_department(scope: Scope, department: Department, *, actor_id: str, request_id: str | None) -> None:
    """Claim the code and store the department under a parent that still exists and is not moving."""
    try:
        with transaction() as tx:
            tx.save(DepartmentCode.new(scope, department.code, department.department_id), condition=_unclaimed())
            tx.save(department, condition=Department.pk.does_not_exist())
            if department.parent_id:
                parent = keys.department(scope, department.parent_id)
                tx.condition_check(
                    Department,
                    parent.pk,
                    parent.sk,
                    condition=Department.pk.exists() & Department.moving_to.does_not_exist(),
                )
            _log(
                tx,
                scope,
                "department.create",
                department.department_id,
                None,
                snapshot(department),
                actor_id,
                request_id,
            )
    except TransactWriteError as error:
        failed = _failed(tx, error)
        if tuple(keys.department_code(scope, department.code)) in failed:
            raise ConflictError(f"department code '{department.code}' is already in use") from error
        if department.parent_id and tuple(keys.department(scope, department.parent_id)) in failed:
            raise ConflictError("the parent department was deleted or is being moved; try again") from error
        raise


def update_department(
    scope: Scope,
    department: Department,
    *,
    before: dict[str, Any],
    old_code: str,
    actor_id: str,
    request_id: str | None,
    action: str = "department.update",
) -> None:
    """Save a changed department (version-checked); a new code is claimed and the old one released with it."""
    claims = old_code.lower() != department.code.lower()
    try:
        with transaction() as tx:
            tx.save(department)  # PynamoDB adds the version condition
            if claims:
                tx.save(DepartmentCode.new(scope, department.code, department.department_id), condition=_unclaimed())
                _release(tx, DepartmentCode.new(scope, old_code, department.department_id))
            _log(tx, scope, action, department.department_id, before, snapshot(department), actor_id, request_id)
    except TransactWriteError as error:
        failed = _failed(tx, error)
        if (department.pk, department.sk) in failed:
            raise PreconditionFailedError("the department has changed since it was read") from error
        if tuple(keys.department_code(scope, department.code)) in failed:
            raise ConflictError(f"department code '{department.code}' is already in use") from error
        raise


def delete_department(scope: Scope, department: Department, *, actor_id: str, request_id: str | None) -> None:
    try:
        with transaction() as tx:
            tx.delete(department)  # version-checked
            _release(tx, DepartmentCode.new(scope, department.code, department.department_id))
            _log(
                tx,
                scope,
                "department.delete",
                department.department_id,
                snapshot(department),
                None,
                actor_id,
                request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the department has changed since it was read") from error
        raise


def members_page(
    scope: Scope, path: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[User], dict[str, Any] | None]:
    """One page of the accounts at `path` or below: one begins_with Query on gsi2."""
    results = User.gsi2.query(
        keys.user_tree_index(scope),
        User.gsi2sk.startswith(path),
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    members = [u for u in results if isinstance(u, User)]
    return members, results.last_evaluated_key


def move_department(
    scope: Scope,
    department: Department,
    descendants: Sequence[Department],
    *,
    parent_id: str | None,
    order: int,
    target_path: str,
    actor_id: str,
    request_id: str | None,
) -> None:
    """Move `department` and its subtree to `target_path`, the accounts of the subtree with them.

    A subtree that fits in one transaction (with its accounts) moves atomically. A larger one cannot: a
    TransactWriteItems holds at most 100 items, so the move runs in steps and is NOT atomic across them:
      1. the department records the target path (``moving_to``) with the operation-log entry, version-checked;
         from then on no department is created under it and it cannot be deleted or moved elsewhere;
      2. the descendants, then the accounts (one gsi2 page at a time), get their new paths, 100 items per
         transaction, each item version-checked; what is moved leaves the old path's begins_with range;
      3. the department itself takes its new path, parent and order and forgets ``moving_to``.
    If a step fails (a crash, a timeout, a concurrent change), the department keeps ``moving_to`` and the
    subtree is partly at the old path, partly at the new one. Repeating the same move resumes it: its target
    equals ``moving_to``, so the version check is skipped, and step 2 finds under the old path exactly what
    has not moved yet (nothing is moved twice). A move elsewhere is refused until then.
    """
    old_path = department.path
    for descendant in descendants:
        descendant.relocate(target_path + descendant.path[len(old_path) :])
    before = snapshot(department)

    def finish() -> None:
        department.parent_id, department.order, department.moving_to = parent_id, order, None
        department.relocate(target_path)

    if department.moving_to is None:
        room = ATOMIC_ITEMS - 2 - len(descendants)  # the department and the log entry take two
        members, more = members_page(scope, old_path, room, None) if room > 0 else ([], None)
        if room > 0 and more is None:
            _rebase_members(members, old_path, target_path)
            finish()
            try:
                with transaction() as tx:
                    for item in [*descendants, *members, department]:
                        tx.save(item)  # each version-checked
                    _log(
                        tx,
                        scope,
                        "department.move",
                        department.department_id,
                        before,
                        snapshot(department),
                        actor_id,
                        request_id,
                    )
            except TransactWriteError as error:
                if condition_failed(error):
                    raise ConflictError("the department or its subtree changed during the move; try again") from error
                raise
            return
        department.moving_to = target_path
        try:
            with transaction() as tx:
                tx.save(department)
                after = {**before, "parent_id": parent_id, "order": order, "path": target_path}
                _log(tx, scope, "department.move", department.department_id, before, after, actor_id, request_id)
        except TransactWriteError as error:
            department.moving_to = None
            if condition_failed(error):
                raise PreconditionFailedError("the department has changed since it was read") from error
            raise
    _save_in_batches(descendants)
    start: dict[str, Any] | None = None
    while True:
        members, start = members_page(scope, old_path, ATOMIC_ITEMS, start)
        _rebase_members(members, old_path, target_path)
        _save_in_batches(members)
        if start is None:
            break
    finish()
    _save_in_batches([department])


def _rebase_members(members: Sequence[User], old_path: str, target_path: str) -> None:
    for member in members:
        path = member.department_path or old_path
        member.place(member.department_id, target_path + path[len(old_path) :])


def _save_in_batches(items: Sequence[TableModel]) -> None:
    for first in range(0, len(items), ATOMIC_ITEMS):
        try:
            with transaction() as tx:
                for item in items[first : first + ATOMIC_ITEMS]:
                    tx.save(item)  # version-checked
        except TransactWriteError as error:
            if condition_failed(error):
                raise ConflictError(
                    "part of the subtree changed during the move; repeat the move to finish it"
                ) from error
            raise


def snapshot(department: Department) -> dict[str, Any]:
    return {
        "name": department.name,
        "code": department.code,
        "parent_id": department.parent_id,
        "path": department.path,
        "order": int(department.order or 0),
        "leader_id": department.leader_id,
        "status": department.status,
    }


# -- positions ------------------------------------------------------------------------
def get_position(scope: Scope, position_id: str) -> Position:
    key = keys.position(scope, position_id)
    try:
        return Position.get(key.pk, key.sk, consistent_read=True)
    except Position.DoesNotExist as error:
        raise NotFoundError("no such position") from error


def positions_page(
    scope: Scope, department_id: str | None, limit: int, start: dict[str, Any] | None
) -> tuple[list[Position], dict[str, Any] | None]:
    """One page of positions, oldest first: of one department (gsi1), or of the whole organisation."""
    results: ResultIterator[Any]
    if department_id:
        results = Position.gsi1.query(
            keys.department_positions_index(scope, department_id),
            limit=limit,
            page_size=limit,
            last_evaluated_key=start,
        )
    else:
        results = Position.query(
            keys.collection(scope, "POSITION"), limit=limit, page_size=limit, last_evaluated_key=start
        )
    items = [p for p in results if isinstance(p, Position)]
    return items, results.last_evaluated_key


def create_position(scope: Scope, position: Position, *, actor_id: str, request_id: str | None) -> None:
    try:
        with transaction() as tx:
            tx.save(PositionCode.new(scope, position.code, position.position_id), condition=_unclaimed())
            tx.save(position, condition=Position.pk.does_not_exist())
            _department_still_there(tx, scope, position.department_id)
            _log(
                tx,
                scope,
                "position.create",
                position.position_id,
                None,
                position_snapshot(position),
                actor_id,
                request_id,
            )
    except TransactWriteError as error:
        failed = _failed(tx, error)
        if tuple(keys.position_code(scope, position.code)) in failed:
            raise ConflictError(f"position code '{position.code}' is already in use") from error
        if tuple(keys.department(scope, position.department_id)) in failed:
            raise ConflictError("the department was deleted meanwhile") from error
        raise


def update_position(
    scope: Scope,
    position: Position,
    *,
    before: dict[str, Any],
    old_code: str,
    actor_id: str,
    request_id: str | None,
) -> None:
    claims = old_code.lower() != position.code.lower()
    try:
        with transaction() as tx:
            tx.save(position)  # version-checked
            _department_still_there(tx, scope, position.department_id)
            if claims:
                tx.save(PositionCode.new(scope, position.code, position.position_id), condition=_unclaimed())
                _release(tx, PositionCode.new(scope, old_code, position.position_id))
            _log(
                tx,
                scope,
                "position.update",
                position.position_id,
                before,
                position_snapshot(position),
                actor_id,
                request_id,
            )
    except TransactWriteError as error:
        failed = _failed(tx, error)
        if (position.pk, position.sk) in failed:
            raise PreconditionFailedError("the position has changed since it was read") from error
        if tuple(keys.department(scope, position.department_id)) in failed:
            raise ConflictError("the department was deleted meanwhile") from error
        if tuple(keys.position_code(scope, position.code)) in failed:
            raise ConflictError(f"position code '{position.code}' is already in use") from error
        raise


def delete_position(scope: Scope, position: Position, *, actor_id: str, request_id: str | None) -> None:
    try:
        with transaction() as tx:
            tx.delete(position)  # version-checked
            _release(tx, PositionCode.new(scope, position.code, position.position_id))
            _log(
                tx,
                scope,
                "position.delete",
                position.position_id,
                position_snapshot(position),
                None,
                actor_id,
                request_id,
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the position has changed since it was read") from error
        raise


def position_snapshot(position: Position) -> dict[str, Any]:
    return {
        "department_id": position.department_id,
        "name": position.name,
        "code": position.code,
        "description": position.description,
        "order": int(position.order or 0),
    }


# -- shared ---------------------------------------------------------------------------
def _unclaimed() -> Any:
    return TableModel.pk.does_not_exist()


def _release(tx: Transaction, claim: DepartmentCode | PositionCode) -> None:
    """Delete a code claim, provided it is still the claim of this object."""
    owner = DepartmentCode.department_id if isinstance(claim, DepartmentCode) else PositionCode.position_id
    owned_by = claim.department_id if isinstance(claim, DepartmentCode) else claim.position_id
    tx.delete(claim, condition=owner == owned_by, add_version_condition=False)


def _department_still_there(tx: Transaction, scope: Scope, department_id: str) -> None:
    key = keys.department(scope, department_id)
    tx.condition_check(Department, key.pk, key.sk, condition=Department.pk.exists())


def _log(
    tx: Transaction,
    scope: Scope,
    action: str,
    resource_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    actor_id: str,
    request_id: str | None,
) -> None:
    """The operation-log entry of a department or position change (the resource is the action's module)."""
    oplog.record(
        tx,
        scope,
        actor_id=actor_id,
        action=action,
        resource=action.partition(".")[0],
        resource_id=resource_id,
        before=before,
        after=after,
        request_id=request_id,
    )
