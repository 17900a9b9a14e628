"""Organisation rules: a department tree per tenant with a materialised path, and positions of departments.

A department outside the caller's data scope does not exist for them (404), and neither does a position of
such a department. The whole tree is shown only to a caller who sees everything; anyone else gets the
departments they cover, with the ancestors needed to place them marked ``accessible: false``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from riveredge import cursors, custom_fields
from riveredge.actor import Actor
from riveredge.clock import new_id
from riveredge.custom_fields import Filter
from riveredge.datascope import DataScope
from riveredge.db.models import Department, Position, map_values
from riveredge.errors import (
    BadRequestError,
    ConflictError,
    FieldProblem,
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)

from organisation import repository
from organisation.models import (
    CreateDepartmentRequest,
    CreatePositionRequest,
    MoveDepartmentRequest,
    UpdateDepartmentRequest,
    UpdatePositionRequest,
)

MAX_DEPTH = 20  # keeps a path (27 characters a level) well inside DynamoDB's 1,024-byte sort key
NO_SUCH_DEPARTMENT = "no such department"
NO_SUCH_POSITION = "no such position"
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass
class Branch:
    """A department of the tree as the caller sees it."""

    department: Department
    accessible: bool
    children: list[Branch] = field(default_factory=list)


# -- departments ----------------------------------------------------------------------
def _covers(actor: Actor, department: Department) -> bool:
    return actor.data_scope.covers_department(department.department_id, department.path)


def _visible_department(actor: Actor, department_id: str) -> Department:
    """The department, if it exists in the caller's tenant and data scope; otherwise a 404."""
    department = repository.find_department(actor.scope, department_id) if _ID.fullmatch(department_id) else None
    if department is None or not _covers(actor, department):
        raise NotFoundError(NO_SUCH_DEPARTMENT)
    return department


def _check_version(kind: str, current: int | None, expected: int | None) -> None:
    if expected is not None and expected != int(current or 0):
        raise PreconditionFailedError(f"the {kind} is at version {int(current or 0)}, not {expected}")


def _invalid(field_name: str, message: str) -> ValidationError:
    return ValidationError(f"{field_name} is not valid", errors=[FieldProblem(field_name, message)])


def _parent(actor: Actor, parent_id: str | None) -> Department | None:
    """The department to place another under: one the caller sees; the top level only for who sees everything."""
    if parent_id is None:
        if not actor.data_scope.all:
            raise ForbiddenError(
                "only someone who sees the whole organisation may place a department at the top level",
                errors=[FieldProblem("parent_id", "a department at the top level is outside your data scope")],
            )
        return None
    parent = repository.find_department(actor.scope, parent_id)
    if parent is None or not _covers(actor, parent):
        raise _invalid("parent_id", NO_SUCH_DEPARTMENT)
    if parent.moving_to:
        raise ConflictError("the parent department is being moved; finish that move first")
    return parent


def _check_leader(actor: Actor, leader_id: str | None) -> None:
    if leader_id is not None and not repository.user_exists(actor.scope, leader_id):
        raise _invalid("leader_id", "no such account in this organisation")


def create_department(actor: Actor, request: CreateDepartmentRequest) -> Department:
    parent = _parent(actor, request.parent_id)
    if parent is not None and int(parent.depth) >= MAX_DEPTH:
        raise _invalid("parent_id", f"the tree may be at most {MAX_DEPTH} levels deep")
    _check_leader(actor, request.leader_id)
    values = custom_fields.validate(actor.scope, "department", request.custom_fields, creating=True)
    department = Department.new(
        actor.scope,
        new_id(),
        parent.path if parent else None,
        name=request.name,
        code=request.code,
        parent_id=request.parent_id,
        order=request.order,
        leader_id=request.leader_id,
        status=request.status,
        created_by=actor.user_id,
        custom_fields=values,
    )
    repository.create_department(actor, department)
    return department


def get_department(actor: Actor, department_id: str) -> Department:
    return _visible_department(actor, department_id)


def department_tree(actor: Actor, root_id: str | None) -> list[Branch]:
    """The caller's view of the tree (or of the subtree at `root_id`): one Query, then arranged in memory."""
    under = _visible_department(actor, root_id).path if root_id is not None else None
    return arrange(repository.tree(actor.scope, under), actor.data_scope)


def matching_departments(actor: Actor, root_id: str | None, wanted: Sequence[Filter]) -> list[Department]:
    """The departments the caller may see (at or under `root_id`) whose custom fields pass `wanted`, by path."""
    under = _visible_department(actor, root_id).path if root_id is not None else None
    return sorted(
        (
            d
            for d in repository.tree(actor.scope, under)
            if actor.data_scope.covers_department(d.department_id, d.path)
            and custom_fields.matches(map_values(d.custom_fields), wanted)
        ),
        key=lambda d: d.path,
    )


def arrange(departments: list[Department], data_scope: DataScope) -> list[Branch]:
    """Nest `departments` by parent, siblings by order then name, keeping what `data_scope` covers.

    An ancestor of a covered department that is not covered itself stays, marked not accessible, so that
    what is below it has its place; nothing else outside the scope is shown.
    """
    by_id = {d.department_id: d for d in departments}
    covered = {d.department_id for d in departments if data_scope.covers_department(d.department_id, d.path)}
    shown = set(covered)
    for department_id in covered:
        shown.update(a for a in by_id[department_id].ancestor_ids if a in by_id)
    branches = {i: Branch(by_id[i], i in covered) for i in shown}
    roots: list[Branch] = []
    for branch in branches.values():
        parent = branches.get(branch.department.parent_id or "")
        (parent.children if parent is not None else roots).append(branch)
    _sort(roots)
    return roots


def _sort(branches: list[Branch]) -> None:
    branches.sort(
        key=lambda b: (int(b.department.order or 0), b.department.name.casefold(), b.department.department_id)
    )
    for branch in branches:
        _sort(branch.children)


def update_department(actor: Actor, department_id: str, request: UpdateDepartmentRequest) -> Department:
    """Rename, recode, reorder, change the leader or the status; `version` must be the one read."""
    department = _visible_department(actor, department_id)
    _check_version("department", department.version, request.version)
    before, old_code = department.snapshot(), department.code
    if "leader_id" in request.model_fields_set and request.leader_id != department.leader_id:
        _check_leader(actor, request.leader_id)
        department.leader_id = request.leader_id
    if request.name is not None:
        department.name = request.name
    if request.code is not None:
        department.code = request.code
    if request.order is not None:
        department.order = request.order
    if request.status is not None:
        department.status = request.status
    stored = map_values(department.custom_fields)
    department.custom_fields = custom_fields.validate(  # type: ignore[assignment]
        actor.scope, "department", request.custom_fields, stored, creating=False
    )
    if department.snapshot() == before:
        return department  # nothing to change, nothing to log
    repository.update_department(actor, department, before=before, old_code=old_code)
    return department


def move_department(actor: Actor, department_id: str, request: MoveDepartmentRequest) -> Department:
    """Put the department (and its subtree, and their accounts) under another parent, or at the top level.

    A move under the department itself or one of its descendants is refused. A move that did not finish
    (see repository.move_department) is resumed by repeating it, whatever the version; any other move of
    that department is refused until then.
    """
    department = _visible_department(actor, department_id)
    if request.parent_id == department.department_id:
        raise _invalid("parent_id", "a department cannot move under itself or one of its descendants")
    if department.moving_to is None:
        _check_version("department", department.version, request.version)
    parent = _parent(actor, request.parent_id)
    if parent is not None and any(
        parent.path.startswith(p) for p in (department.path, department.moving_to) if p is not None
    ):
        raise _invalid("parent_id", "a department cannot move under itself or one of its descendants")
    target_path = f"{parent.path if parent else '/'}{department.department_id}/"
    if department.moving_to is not None and department.moving_to != target_path:
        raise ConflictError(
            "an earlier move of this department has not finished; repeat it first "
            f"(to the parent {_parent_of(department.moving_to) or 'null'})"
        )
    order = request.order if request.order is not None else int(department.order or 0)
    if target_path == department.path and department.moving_to is None:
        return _reorder(actor, department, order)
    descendants = [d for d in repository.tree(actor.scope, department.path) if d.sk != department.sk]
    levels = max((int(d.depth) for d in descendants), default=int(department.depth)) - int(department.depth) + 1
    if (int(parent.depth) if parent else 0) + levels > MAX_DEPTH:
        raise _invalid("parent_id", f"the tree may be at most {MAX_DEPTH} levels deep")
    repository.move_department(
        actor, department, descendants, parent_id=request.parent_id, order=order, target_path=target_path
    )
    return department


def _parent_of(path: str) -> str | None:
    ids = path.strip("/").split("/")
    return ids[-2] if len(ids) > 1 else None


def _reorder(actor: Actor, department: Department, order: int) -> Department:
    """A move to where the department already is: only its place among its siblings changes."""
    if order == int(department.order or 0):
        return department
    before = department.snapshot()
    department.order = order
    repository.update_department(actor, department, before=before, old_code=department.code, action="department.move")
    return department


def delete_department(actor: Actor, department_id: str, version: int | None) -> None:
    """Delete a department that has no sub-departments, positions or members."""
    department = _visible_department(actor, department_id)
    _check_version("department", department.version, version)
    if department.moving_to is not None:
        raise ConflictError("the department is being moved; finish that move first")
    reasons = []
    if repository.has_children(actor.scope, department):
        reasons.append("it has sub-departments")
    if repository.has_positions(actor.scope, department.department_id):
        reasons.append("it has positions")
    if repository.has_members(actor.scope, department.path):
        reasons.append("it has members")
    if reasons:
        raise ConflictError(f"the department cannot be deleted: {', '.join(reasons)}")
    repository.delete_department(actor, department)


# -- positions ------------------------------------------------------------------------
def _department_of_position(actor: Actor, department_id: str) -> Department:
    department = repository.find_department(actor.scope, department_id)
    if department is None or not _covers(actor, department):
        raise _invalid("department_id", NO_SUCH_DEPARTMENT)
    return department


def _visible_position(actor: Actor, position_id: str) -> Position:
    """The position, if it exists in the caller's tenant and its department is in their data scope."""
    if not _ID.fullmatch(position_id):
        raise NotFoundError(NO_SUCH_POSITION)
    position = repository.get_position(actor.scope, position_id)
    if not actor.data_scope.all:
        department = repository.find_department(actor.scope, position.department_id)
        if department is None or not _covers(actor, department):
            raise NotFoundError(NO_SUCH_POSITION)
    return position


def create_position(actor: Actor, request: CreatePositionRequest) -> Position:
    _department_of_position(actor, request.department_id)
    position = Position.new(
        actor.scope,
        new_id(),
        request.department_id,
        name=request.name,
        code=request.code,
        description=request.description,
        order=request.order,
        created_by=actor.user_id,
    )
    repository.create_position(actor, position)
    return position


def get_position(actor: Actor, position_id: str) -> Position:
    return _visible_position(actor, position_id)


def list_positions(
    actor: Actor, *, department_id: str | None, limit: int, cursor: str | None
) -> tuple[list[Position], str | None]:
    """A page of positions, oldest first, of one department or of every department the caller covers.

    Without a department, a caller who does not see everything gets each page filtered to what they cover,
    so a page may hold fewer than `limit` items; `next_cursor` still leads to the rest.
    """
    query = cursors.fingerprint({"route": "positions", "department_id": department_id})
    start = cursors.decode(actor.scope, query, cursor)
    if department_id is not None:
        department = repository.find_department(actor.scope, department_id)
        if department is None or not _covers(actor, department):
            raise BadRequestError(
                "department_id is not valid", errors=[FieldProblem("department_id", NO_SUCH_DEPARTMENT)]
            )
    items, last = repository.positions_page(actor.scope, department_id, limit, start)
    if department_id is None and not actor.data_scope.all:
        covered = {d.department_id for d in repository.tree(actor.scope) if _covers(actor, d)}
        items = [p for p in items if p.department_id in covered]
    return items, cursors.encode(actor.scope, query, last)


def update_position(actor: Actor, position_id: str, request: UpdatePositionRequest) -> Position:
    position = _visible_position(actor, position_id)
    _check_version("position", position.version, request.version)
    before, old_code = position.snapshot(), position.code
    if request.department_id is not None and request.department_id != position.department_id:
        _department_of_position(actor, request.department_id)
        position.assign(actor.scope, request.department_id)
    if request.name is not None:
        position.name = request.name
    if request.code is not None:
        position.code = request.code
    if "description" in request.model_fields_set:
        position.description = request.description
    if request.order is not None:
        position.order = request.order
    if position.snapshot() == before:
        return position
    repository.update_position(actor, position, before=before, old_code=old_code)
    return position


def delete_position(actor: Actor, position_id: str, version: int | None) -> None:
    position = _visible_position(actor, position_id)
    _check_version("position", position.version, version)
    repository.delete_position(actor, position)
