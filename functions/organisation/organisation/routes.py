"""Department and position routes."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge import custom_fields
from riveredge.db.models import Department, map_values
from riveredge.http import (
    DELETED,
    ApiRouter,
    CustomFieldQuery,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    with_if_match,
)

from organisation import service
from organisation.models import (
    ID_PATTERN,
    CreateDepartmentRequest,
    CreatePositionRequest,
    DepartmentNode,
    DepartmentResponse,
    DepartmentTreeResponse,
    MoveDepartmentRequest,
    PositionListResponse,
    PositionResponse,
    UpdateDepartmentRequest,
    UpdatePositionRequest,
)

departments = ApiRouter("departments")
positions = ApiRouter("positions")


def _values(department: Department) -> dict[str, Any]:
    return custom_fields.present(actor_of(departments).scope, "department", map_values(department.custom_fields))


def _out(department: Department) -> DepartmentResponse:
    """The department as its routes show it, with the values of the organisation's custom fields."""
    return DepartmentResponse.of(department, _values(department))


def _node(branch: service.Branch) -> DepartmentNode:
    return DepartmentNode.of_branch(
        branch.department,
        accessible=branch.accessible,
        children=[_node(c) for c in branch.children],
        custom_fields=_values(branch.department),
    )


# -- departments ----------------------------------------------------------------------
@departments.post(
    "/api/departments",
    permission="department.create",
    permission_name="Create departments",
    status_code=201,
    summary="Create a department (a root, or under a parent)",
    responses=created_as(DepartmentResponse),
)
def create_department(body: CreateDepartmentRequest) -> Response[dict[str, Any]]:
    department = _out(service.create_department(actor_of(departments), body))
    return created(department, f"/api/departments/{department.id}")


@departments.get(
    "/api/departments",
    permission="department.view",
    permission_name="View departments",
    summary="The department tree (or the subtree at root_id), nested, siblings by order then name; with "
    "custom_field filters, the matching departments as a flat list (by path)",
)
def list_departments(
    root_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this department and below")] = None,
    custom_field: CustomFieldQuery = None,
) -> DepartmentTreeResponse:
    actor = actor_of(departments)
    wanted = custom_fields.filters(actor.scope, "department", custom_field)
    if wanted:
        found = service.matching_departments(actor, root_id, wanted)
        return DepartmentTreeResponse(
            items=[DepartmentNode.of_branch(d, accessible=True, children=[], custom_fields=_values(d)) for d in found]
        )
    return DepartmentTreeResponse(items=[_node(b) for b in service.department_tree(actor, root_id)])


@departments.get("/api/departments/<department_id>", permission="department.view", summary="Read a department")
def get_department(department_id: str) -> DepartmentResponse:
    return _out(service.get_department(actor_of(departments), department_id))


@departments.put(
    "/api/departments/<department_id>",
    permission="department.edit",
    permission_name="Edit departments",
    summary="Rename a department, change its code, order, leader or status",
)
def update_department(department_id: str, body: UpdateDepartmentRequest) -> DepartmentResponse:
    return _out(service.update_department(actor_of(departments), department_id, with_if_match(departments, body)))


@departments.post(
    "/api/departments/<department_id>/move",
    permission="department.edit",
    versioned=True,
    summary="Move a department, its subtree and their accounts under another parent (null: the top level)",
)
def move_department(department_id: str, body: MoveDepartmentRequest) -> DepartmentResponse:
    return _out(service.move_department(actor_of(departments), department_id, with_if_match(departments, body)))


@departments.delete(
    "/api/departments/<department_id>",
    permission="department.delete",
    permission_name="Delete departments",
    status_code=204,
    summary="Delete a department without sub-departments, positions or members",
    responses=DELETED,
)
def delete_department(department_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_department(actor_of(departments), department_id, expected_version(departments, version))
    return no_content()


# -- positions ------------------------------------------------------------------------
@positions.post(
    "/api/positions",
    permission="position.create",
    permission_name="Create positions",
    status_code=201,
    summary="Create a position in a department",
    responses=created_as(PositionResponse),
)
def create_position(body: CreatePositionRequest) -> Response[dict[str, Any]]:
    position = PositionResponse.of(service.create_position(actor_of(positions), body))
    return created(position, f"/api/positions/{position.id}")


@positions.get(
    "/api/positions",
    permission="position.view",
    permission_name="View positions",
    summary="List positions, oldest first, of one department or of every department you see",
)
def list_positions(
    department_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> PositionListResponse:
    items, next_cursor = service.list_positions(
        actor_of(positions), department_id=department_id, limit=limit, cursor=cursor
    )
    return PositionListResponse(items=[PositionResponse.of(p) for p in items], next_cursor=next_cursor)


@positions.get("/api/positions/<position_id>", permission="position.view", summary="Read a position")
def get_position(position_id: str) -> PositionResponse:
    return PositionResponse.of(service.get_position(actor_of(positions), position_id))


@positions.put(
    "/api/positions/<position_id>",
    permission="position.edit",
    permission_name="Edit positions",
    summary="Change a position: department, name, code, description or order",
)
def update_position(position_id: str, body: UpdatePositionRequest) -> PositionResponse:
    return PositionResponse.of(
        service.update_position(actor_of(positions), position_id, with_if_match(positions, body))
    )


@positions.delete(
    "/api/positions/<position_id>",
    permission="position.delete",
    permission_name="Delete positions",
    status_code=204,
    summary="Delete a position",
    responses=DELETED,
)
def delete_position(position_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_position(actor_of(positions), position_id, expected_version(positions, version))
    return no_content()
