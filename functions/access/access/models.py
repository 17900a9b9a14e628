"""Request and response bodies of the access routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from riveredge.schemas import RequestModel, ResponseModel, StoredObject

RoleCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,49}$", description="Unique per tenant")]
PermissionCode = Annotated[str, Field(pattern=r"^(\*|[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*)$", max_length=100)]
DataScopeName = Literal["all", "dept_and_children", "dept", "self", "custom"]
Id = Annotated[str, Field(min_length=1, max_length=64)]


class PermissionResponse(ResponseModel):
    code: str
    name: str
    category: str


class PermissionListResponse(ResponseModel):
    items: list[PermissionResponse]


class CreateRoleRequest(RequestModel):
    name: RoleCode
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str | None, Field(max_length=500)] = None
    parent_id: Id | None = None
    data_scope: DataScopeName = "self"
    departments: Annotated[list[Id], Field(max_length=200)] = Field(default_factory=list)
    permissions: Annotated[list[PermissionCode], Field(max_length=500)] = Field(default_factory=list)


class UpdateRoleRequest(RequestModel):
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str | None, Field(max_length=500)] = None
    parent_id: Id | None = None
    data_scope: DataScopeName
    departments: Annotated[list[Id], Field(max_length=200)] = Field(default_factory=list)
    version: Annotated[int, Field(ge=0)]


class RoleResponse(StoredObject):
    name: str
    display_name: str
    description: str | None
    parent_id: str | None
    data_scope: str
    departments: list[str]
    permissions: list[str]
    system: bool


class RoleListResponse(ResponseModel):
    items: list[RoleResponse]
    next_cursor: str | None = None


class RolePermissionsRequest(RequestModel):
    permissions: Annotated[list[PermissionCode], Field(max_length=500)]
    version: Annotated[int, Field(ge=0)]


class RolePermissionsResponse(ResponseModel):
    role_id: str
    permissions: list[str]
    inherited: list[str]
    version: int


class UserRolesRequest(RequestModel):
    role_ids: Annotated[list[Id], Field(max_length=50)]
    version: Annotated[int, Field(ge=0)]


class UserRolesResponse(ResponseModel):
    user_id: str
    role_ids: list[str]
    version: int


class Decision(ResponseModel):
    role_id: str
    role: str
    path: list[str]
    via: Literal["exact", "manage", "wildcard"]


class ExplainResponse(ResponseModel):
    user_id: str
    permission: str
    granted: bool
    decided_by: list[Decision]
    roles: list[str]
