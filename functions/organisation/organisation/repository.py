"""Department and position persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.pagination import ResultIterator
from riveredge import keys
from riveredge.actor import Actor
from riveredge.db import TableModel
from riveredge.db.changes import Change, change
from riveredge.db.models import Department, DepartmentCode, Position, PositionCode, User
from riveredge.errors import PreconditionFailedError
from riveredge.scope import Scope

ATOMIC_ITEMS = 100  # the most items one TransactWriteItems may hold


# -- departments ----------------------------------------------------------------------
def find_department(scope: Scope, department_id: str) -> Department | None:
    return Department.find(keys.department(scope, department_id))


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


def create_department(actor: Actor, department: Department) -> None:
    """Claim the code and store the department under a parent that still exists and is not moving."""
    scope = actor.scope
    with change(actor, "department.create", department) as c:
        c.create(
            DepartmentCode.new(scope, department.code, department.department_id),
            conflict=f"department code '{department.code}' is already in use",
        )
        c.create(department, conflict="the department already exists")
        if department.parent_id:
            c.check(
                Department,
                keys.department(scope, department.parent_id),
                Department.pk.exists() & Department.moving_to.does_not_exist(),
                conflict="the parent department was deleted or is being moved; try again",
            )


def update_department(
    actor: Actor, department: Department, *, before: dict[str, Any], old_code: str, action: str = "department.update"
) -> None:
    """Save a changed department (version-checked); a new code is claimed and the old one released with it."""
    with change(actor, action, department, before=before) as c:
        c.save(department, stale="the department has changed since it was read")
        _recode(
            c,
            DepartmentCode.new(actor.scope, old_code, department.department_id),
            DepartmentCode.new(actor.scope, department.code, department.department_id),
            f"department code '{department.code}' is already in use",
        )


def delete_department(actor: Actor, department: Department) -> None:
    with change(actor, "department.delete", department, before=department.snapshot()) as c:
        c.delete(department, stale="the department has changed since it was read")
        _release(c, DepartmentCode.new(actor.scope, department.code, department.department_id))


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
    actor: Actor,
    department: Department,
    descendants: Sequence[Department],
    *,
    parent_id: str | None,
    order: int,
    target_path: str,
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
    scope = actor.scope
    before = department.snapshot()

    def finish() -> None:
        department.parent_id, department.order, department.moving_to = parent_id, order, None
        department.relocate(target_path)

    if department.moving_to is None:
        room = ATOMIC_ITEMS - 2 - len(descendants)  # the department and the log entry take two
        members, more = members_page(scope, old_path, room, None) if room > 0 else ([], None)
        if room > 0 and more is None:
            _rebase_members(members, old_path, target_path)
            finish()
            with change(actor, "department.move", department, before=before) as c:
                for item in [*descendants, *members, department]:
                    c.save(item, conflict="the department or its subtree changed during the move; try again")
            return
        department.moving_to = target_path
        try:
            with change(actor, "department.move") as c:
                c.save(department, stale="the department has changed since it was read")
                after = {**before, "parent_id": parent_id, "order": order, "path": target_path}
                c.log("department.move", department.noun, department.department_id, before=before, after=after)
        except PreconditionFailedError:
            department.moving_to = None
            raise
    _save_in_batches(actor, descendants)
    start: dict[str, Any] | None = None
    while True:
        members, start = members_page(scope, old_path, ATOMIC_ITEMS, start)
        _rebase_members(members, old_path, target_path)
        _save_in_batches(actor, members)
        if start is None:
            break
    finish()
    _save_in_batches(actor, [department])


def _rebase_members(members: Sequence[User], old_path: str, target_path: str) -> None:
    for member in members:
        path = member.department_path or old_path
        member.place(member.department_id, target_path + path[len(old_path) :])


def _save_in_batches(actor: Actor, items: Sequence[TableModel]) -> None:
    """A step of a large move (its log entry was written when it started), each item version-checked."""
    for first in range(0, len(items), ATOMIC_ITEMS):
        with change(actor, "department.move") as c:
            for item in items[first : first + ATOMIC_ITEMS]:
                c.save(item, conflict="part of the subtree changed during the move; repeat the move to finish it")


# -- positions ------------------------------------------------------------------------
def get_position(scope: Scope, position_id: str) -> Position:
    return Position.get_or_404(keys.position(scope, position_id))


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


def create_position(actor: Actor, position: Position) -> None:
    with change(actor, "position.create", position) as c:
        c.create(
            PositionCode.new(actor.scope, position.code, position.position_id),
            conflict=f"position code '{position.code}' is already in use",
        )
        c.create(position, conflict="the position already exists")
        _department_still_there(c, position.department_id)


def update_position(actor: Actor, position: Position, *, before: dict[str, Any], old_code: str) -> None:
    with change(actor, "position.update", position, before=before) as c:
        c.save(position, stale="the position has changed since it was read")
        _department_still_there(c, position.department_id)
        _recode(
            c,
            PositionCode.new(actor.scope, old_code, position.position_id),
            PositionCode.new(actor.scope, position.code, position.position_id),
            f"position code '{position.code}' is already in use",
        )


def delete_position(actor: Actor, position: Position) -> None:
    with change(actor, "position.delete", position, before=position.snapshot()) as c:
        c.delete(position, stale="the position has changed since it was read")
        _release(c, PositionCode.new(actor.scope, position.code, position.position_id))


# -- shared ---------------------------------------------------------------------------
def _release(c: Change, claim: DepartmentCode | PositionCode) -> None:
    """Delete a code claim, provided it is still the claim of this object."""
    owner = DepartmentCode.department_id if isinstance(claim, DepartmentCode) else PositionCode.position_id
    owned_by = claim.department_id if isinstance(claim, DepartmentCode) else claim.position_id
    c.delete(claim, condition=owner == owned_by, versioned=False, conflict="the code changed hands meanwhile")


def _recode(c: Change, old: DepartmentCode | PositionCode, new: DepartmentCode | PositionCode, taken: str) -> None:
    """A changed code: claim the new one (`taken`, a 409, if another object holds it), release the old one."""
    if old.sk != new.sk:
        c.create(new, conflict=taken)
        _release(c, old)


def _department_still_there(c: Change, department_id: str) -> None:
    c.check(
        Department,
        keys.department(c.author.scope, department_id),
        Department.pk.exists(),
        conflict="the department was deleted meanwhile",
    )
