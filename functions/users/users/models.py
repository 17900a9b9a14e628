"""Request and response bodies of the account routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, JsonValue
from riveredge.emails import Email
from riveredge.schemas import TENANT_CODE_PATTERN, RequestModel, ResponseModel, UserResponse

Id = Annotated[str, Field(min_length=1, max_length=64)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Phone = Annotated[str, Field(max_length=40, pattern=r"^[0-9+()\-. ]*$")]
Password = Annotated[str, Field(min_length=1, max_length=256)]
CustomValues = Annotated[
    dict[str, JsonValue],
    Field(
        max_length=50,
        description="Values of the organisation's custom fields by key (GET /api/custom-fields/user/schema); "
        "on an update, the keys given replace the stored ones and null clears one",
    ),
]


class CreateUserRequest(RequestModel):
    email: Email
    name: Name
    phone: Phone | None = None
    department_id: Id | None = None
    position_id: Id | None = None
    role_ids: Annotated[list[Id], Field(max_length=50)] = Field(default_factory=list)
    password: Password | None = Field(
        default=None, description="Without one, the account is invited: its set-password link is mailed"
    )
    custom_fields: CustomValues | None = None


class UpdateUserRequest(RequestModel):
    name: Name
    phone: Phone | None = None
    department_id: Id | None = None
    position_id: Id | None = None
    status: Literal["active", "disabled"]
    version: Annotated[int, Field(ge=0)]
    custom_fields: CustomValues | None = Field(default=None, description="Left out: unchanged")


class UserListResponse(ResponseModel):
    items: list[UserResponse]
    next_cursor: str | None = None


class BatchRequest(RequestModel):
    action: Literal["enable", "disable", "delete", "assign_roles"]
    user_ids: Annotated[list[Id], Field(min_length=1, max_length=100)]
    role_ids: Annotated[list[Id], Field(max_length=50)] = Field(
        default_factory=list, description="The roles to give (assign_roles only); added to what each account holds"
    )


class BatchProblem(ResponseModel):
    type: str
    title: str
    detail: str


class BatchResult(ResponseModel):
    id: str
    status: Literal["ok", "error"]
    error: BatchProblem | None = None


class BatchResponse(ResponseModel):
    results: list[BatchResult]


class ResetPasswordRequest(RequestModel):
    password: Password | None = Field(default=None, description="Without one, a reset link is mailed")


class ResetPasswordResponse(ResponseModel):
    user_id: str
    method: Literal["password_set", "link_sent"]
    sessions_revoked: int


class ActivateRequest(RequestModel):
    tenant: Annotated[str, Field(pattern=TENANT_CODE_PATTERN, max_length=32)]
    token: Annotated[str, Field(min_length=10, max_length=200)]
    password: Password
