"""Account routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge import custom_fields
from riveredge.db.directory import UserFilter
from riveredge.db.models import User, map_values
from riveredge.http import (
    DELETED,
    PUBLIC,
    ApiRouter,
    CustomFieldQuery,
    VersionQuery,
    actor_of,
    created,
    expected_version,
    no_content,
    with_if_match,
)
from riveredge.schemas import UserResponse

from users import service
from users.models import (
    ActivateRequest,
    BatchProblem,
    BatchRequest,
    BatchResponse,
    BatchResult,
    CreateUserRequest,
    ResetPasswordRequest,
    ResetPasswordResponse,
    UpdateUserRequest,
    UserListResponse,
)

router = ApiRouter("users")


def _out(user: User) -> UserResponse:
    """The account as its routes show it, with the values of the organisation's custom fields."""
    shown = custom_fields.present(actor_of(router).scope, "user", map_values(user.custom_fields))
    return UserResponse.of(user, custom_fields=shown)


_CREATED = {
    201: {
        "description": "Created",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserResponse"}}},
    }
}


@router.get(
    "/api/users",
    permission="user.view",
    summary="List the accounts within your data scope",
    permission_name="View accounts",
)
def list_users(
    department_id: Annotated[str | None, Query(max_length=64, description="This department and below")] = None,
    status: Annotated[Literal["active", "disabled", "invited"] | None, Query()] = None,
    role_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Part of a name or email")] = None,
    custom_field: CustomFieldQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> UserListResponse:
    actor = actor_of(router)
    custom = custom_fields.filters(actor.scope, "user", custom_field)
    wanted = UserFilter(department_id=department_id, status=status, role_id=role_id, q=q, custom=custom)
    users, next_cursor = service.page(actor, wanted, limit, cursor)
    return UserListResponse(items=[_out(u) for u in users], next_cursor=next_cursor)


@router.post(
    "/api/users",
    permission="user.create",
    summary="Create an account (or invite it by mail)",
    status_code=201,
    responses=_CREATED,
)
def create_user(body: CreateUserRequest) -> Response[dict[str, Any]]:
    user = _out(service.create(actor_of(router), body))
    return created(user, f"/api/users/{user.id}")


@router.get("/api/users/<user_id>", permission="user.view", summary="Read an account within your data scope")
def get_user(user_id: str) -> UserResponse:
    return _out(service.get(actor_of(router), user_id))


@router.put(
    "/api/users/<user_id>", permission="user.edit", summary="Change an account", permission_name="Edit accounts"
)
def update_user(user_id: str, body: UpdateUserRequest) -> UserResponse:
    return _out(service.update(actor_of(router), user_id, with_if_match(router, body)))


@router.delete(
    "/api/users/<user_id>",
    permission="user.delete",
    summary="Delete an account",
    status_code=204,
    responses=DELETED,
)
def delete_user(user_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), user_id, expected_version(router, version))
    return no_content()


@router.post(
    "/api/users/batch",
    permission="user.edit",
    summary="Enable, disable, delete or give roles to several accounts (answered per account)",
)
def batch_users(body: BatchRequest) -> BatchResponse:
    results = service.batch(actor_of(router), body)
    return BatchResponse(
        results=[
            BatchResult(
                id=user_id,
                status="ok" if error is None else "error",
                error=None if error is None else BatchProblem.model_validate(service.describe(error)),
            )
            for user_id, error in results
        ]
    )


@router.post(
    "/api/users/<user_id>/reset-password",
    permission="user.reset_password",
    summary="Set a new password or mail a reset link; the account's sessions end",
    permission_name="Reset passwords",
)
def reset_password(user_id: str, body: ResetPasswordRequest) -> ResetPasswordResponse:
    method, revoked = service.reset_password(actor_of(router), user_id, body.password)
    return ResetPasswordResponse(user_id=user_id, method=method, sessions_revoked=revoked)


@router.post(
    "/api/public/activate", permission=PUBLIC, summary="Set a password with an activation or reset link (no token)"
)
def activate(body: ActivateRequest) -> UserResponse:
    return UserResponse.of(service.activate(body))
