"""Access routes: the catalogue, roles, the role-permission matrix, user roles, explain."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge import cursors
from riveredge.db.models import Role, User
from riveredge.http import (
    DELETED,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    expected_version,
    no_content,
    with_if_match,
)
from riveredge.schemas import stored_fields

from access import service
from access.models import (
    CreateRoleRequest,
    Decision,
    ExplainResponse,
    PermissionListResponse,
    PermissionResponse,
    RoleListResponse,
    RolePermissionsRequest,
    RolePermissionsResponse,
    RoleResponse,
    UpdateRoleRequest,
    UserRolesRequest,
    UserRolesResponse,
)

router = ApiRouter("access")


def _role(role: Role) -> RoleResponse:
    return RoleResponse(
        **stored_fields(role, role.role_id),
        name=role.code,
        display_name=role.name,
        description=role.description,
        parent_id=role.parent_id,
        data_scope=role.data_scope,
        departments=sorted(role.departments or []),
        permissions=sorted(role.permissions or []),
        system=bool(role.system),
    )


def _user_roles(user: User) -> UserRolesResponse:
    return UserRolesResponse(user_id=user.user_id, role_ids=sorted(user.role_ids or []), version=int(user.version or 0))


@router.get(
    "/api/permissions",
    permission="permission.view",
    summary="The permission catalogue",
    permission_name="View permissions and explanations",
)
def list_permissions() -> PermissionListResponse:
    return PermissionListResponse(
        items=[PermissionResponse(code=p["code"], name=p["name"], category=p["category"]) for p in service.catalogue()]
    )


@router.get(
    "/api/permissions/explain",
    permission="permission.view",
    summary="Whether an account holds a permission, and which role and inheritance path decide it",
)
def explain_permission(
    user_id: Annotated[str, Query(min_length=1, max_length=64)],
    permission: Annotated[str, Query(min_length=1, max_length=100)],
) -> ExplainResponse:
    found = service.explain(actor_of(router), user_id, permission)
    return ExplainResponse(
        user_id=found.user.user_id,
        permission=permission,
        granted=found.granted,
        decided_by=[Decision.model_validate(d) for d in found.decided_by],
        roles=sorted(found.user.role_ids or []),
    )


@router.get("/api/roles", permission="role.view", summary="List roles", permission_name="View roles")
def list_roles(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> RoleListResponse:
    actor = actor_of(router)
    query = cursors.fingerprint({"route": "roles"})
    roles, last = service.list_roles(actor, limit, cursors.decode(actor.principal.scope, query, cursor))
    return RoleListResponse(
        items=[_role(r) for r in roles], next_cursor=cursors.encode(actor.principal.scope, query, last)
    )


@router.post(
    "/api/roles",
    permission="role.create",
    summary="Create a role",
    status_code=201,
    responses={
        201: {
            "description": "Created",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RoleResponse"}}},
        }
    },
)
def create_role(body: CreateRoleRequest) -> Response[dict[str, Any]]:
    role = _role(service.create_role(actor_of(router), body))
    return created(role, f"/api/roles/{role.id}")


@router.get("/api/roles/<role_id>", permission="role.view", summary="Read a role")
def get_role(role_id: str) -> RoleResponse:
    return _role(service.get_role(actor_of(router), role_id))


@router.put(
    "/api/roles/<role_id>",
    permission="role.edit",
    summary="Change a role (name, parent, data scope)",
    permission_name="Edit roles",
)
def update_role(role_id: str, body: UpdateRoleRequest) -> RoleResponse:
    return _role(service.update_role(actor_of(router), role_id, with_if_match(router, body)))


@router.delete(
    "/api/roles/<role_id>",
    permission="role.delete",
    summary="Delete a role (not a system role)",
    status_code=204,
    responses=DELETED,
)
def delete_role(role_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_role(actor_of(router), role_id, expected_version(router, version))
    return no_content()


@router.get(
    "/api/roles/<role_id>/permissions",
    permission="role.view",
    summary="The permissions of a role, its own and inherited",
)
def get_role_permissions(role_id: str) -> RolePermissionsResponse:
    actor = actor_of(router)
    role = service.get_role(actor, role_id)
    return RolePermissionsResponse(
        role_id=role.role_id,
        permissions=sorted(role.permissions or []),
        inherited=service.inherited_permissions(actor, role),
        version=int(role.version or 0),
    )


@router.put(
    "/api/roles/<role_id>/permissions",
    permission="role.edit",
    summary="Set the permissions of a role (the role-permission matrix)",
)
def set_role_permissions(role_id: str, body: RolePermissionsRequest) -> RolePermissionsResponse:
    actor = actor_of(router)
    role = service.set_permissions(actor, role_id, with_if_match(router, body))
    return RolePermissionsResponse(
        role_id=role.role_id,
        permissions=sorted(role.permissions or []),
        inherited=service.inherited_permissions(actor, role),
        version=int(role.version or 0),
    )


@router.get("/api/users/<user_id>/roles", permission="role.view", summary="The roles of an account")
def get_user_roles(user_id: str) -> UserRolesResponse:
    return _user_roles(service.get_user_roles(actor_of(router), user_id))


@router.put(
    "/api/users/<user_id>/roles",
    permission="role.assign",
    summary="Set the roles of an account",
    permission_name="Assign roles to accounts",
)
def set_user_roles(user_id: str, body: UserRolesRequest) -> UserRolesResponse:
    return _user_roles(service.set_user_roles(actor_of(router), user_id, with_if_match(router, body)))
