"""Request and response bodies of the department and position routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue
from riveredge.clock import iso
from riveredge.db.models import Department, Position
from riveredge.schemas import RequestModel, ResponseModel, StoredObject

ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
ObjectId = Annotated[str, Field(pattern=ID_PATTERN, description="A ULID")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Code = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$",
        description="Letters, digits, '_', '.', '-' (at most 32); unique in the organisation, ignoring case",
    ),
]
Order = Annotated[int, Field(ge=0, le=1_000_000, description="Place among its siblings (then by name)")]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
Description = Annotated[str, Field(max_length=500)]
DepartmentStatus = Literal["active", "disabled"]
CustomValues = Annotated[
    dict[str, JsonValue],
    Field(
        max_length=50,
        description="Values of the organisation's custom fields by key (GET /api/custom-fields/department/schema); "
        "on an update, the keys given replace the stored ones and null clears one",
    ),
]


class CreateDepartmentRequest(RequestModel):
    name: Name
    code: Code
    parent_id: ObjectId | None = Field(default=None, description="The parent department; null for a root")
    order: Order = 0
    leader_id: ObjectId | None = Field(default=None, description="An account of the organisation")
    status: DepartmentStatus = "active"
    custom_fields: CustomValues | None = None


class UpdateDepartmentRequest(RequestModel):
    """The fields to change; a field left out keeps its value (leader_id null removes the leader)."""

    version: Version
    name: Name | None = None
    code: Code | None = None
    order: Order | None = None
    leader_id: ObjectId | None = None
    status: DepartmentStatus | None = None
    custom_fields: CustomValues | None = None


class MoveDepartmentRequest(RequestModel):
    parent_id: ObjectId | None = Field(description="The new parent; null makes the department a root")
    order: Order | None = Field(default=None, description="Place among its new siblings; left out keeps it")
    version: Version


class DepartmentResponse(StoredObject):
    name: str
    code: str
    parent_id: str | None = None
    path: str
    depth: int
    order: int
    leader_id: str | None = None
    status: str
    created_by: str | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict, description="Values of its custom fields")

    @classmethod
    def of(cls, department: Department, custom_fields: dict[str, Any] | None = None) -> DepartmentResponse:
        return cls(
            id=department.department_id,
            name=department.name,
            code=department.code,
            parent_id=department.parent_id,
            path=department.path,
            depth=int(department.depth),
            order=int(department.order or 0),
            leader_id=department.leader_id,
            status=department.status,
            created_by=department.created_by,
            custom_fields=custom_fields or {},
            created_at=_time(department.created_at),
            updated_at=_time(department.updated_at),
            version=int(department.version or 0),
        )


class DepartmentNode(DepartmentResponse):
    """A department in the tree, with its children; `accessible` false: shown only to place what is below it."""

    accessible: bool = True
    children: list[DepartmentNode] = Field(default_factory=list)

    @classmethod
    def of_branch(
        cls,
        department: Department,
        *,
        accessible: bool,
        children: list[DepartmentNode],
        custom_fields: dict[str, Any] | None = None,
    ) -> DepartmentNode:
        """A node of the tree; a node shown only to place others reveals neither its leader nor its fields."""
        fields = DepartmentResponse.of(department, custom_fields if accessible else None).model_dump()
        if not accessible:
            fields["leader_id"] = None
        return cls(**fields, accessible=accessible, children=children)


class DepartmentTreeResponse(ResponseModel):
    items: list[DepartmentNode] = Field(description="The roots (or the asked-for subtree root), children nested")


class CreatePositionRequest(RequestModel):
    department_id: ObjectId
    name: Name
    code: Code
    description: Description | None = None
    order: Order = 0


class UpdatePositionRequest(RequestModel):
    """The fields to change; a field left out keeps its value (description null removes it)."""

    version: Version
    department_id: ObjectId | None = None
    name: Name | None = None
    code: Code | None = None
    description: Description | None = None
    order: Order | None = None


class PositionResponse(StoredObject):
    department_id: str
    name: str
    code: str
    description: str | None = None
    order: int
    created_by: str | None = None

    @classmethod
    def of(cls, position: Position) -> PositionResponse:
        return cls(
            id=position.position_id,
            department_id=position.department_id,
            name=position.name,
            code=position.code,
            description=position.description,
            order=int(position.order or 0),
            created_by=position.created_by,
            created_at=_time(position.created_at),
            updated_at=_time(position.updated_at),
            version=int(position.version or 0),
        )


class PositionListResponse(ResponseModel):
    items: list[PositionResponse]
    next_cursor: str | None = None


def _time(value: datetime | None) -> str:
    return iso(value) if value else ""
