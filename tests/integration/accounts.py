"""Test helper: accounts with chosen roles, made the way the application makes them."""

from __future__ import annotations

import uuid
from typing import Any

from riveredge import passwords
from riveredge.clock import new_id
from riveredge.db import roles
from riveredge.db.accounts import create_user
from riveredge.db.changes import System, change
from riveredge.db.models import Role, User
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.support import PASSWORD, claims_of


def make_user(
    stack: LocalStack,
    tenant_id: str,
    tenant_code: str,
    role_ids: list[str],
    *,
    department_id: str | None = None,
    department_path: str | None = None,
    name: str = "Test User",
) -> dict[str, Any]:
    """Create an active account holding `role_ids`, sign it in; answers id, email, token (access), refresh
    and session_id."""
    scope = Scope(tenant_id)
    email = f"u-{uuid.uuid4().hex[:10]}@{tenant_code}.example"
    user = User.new(
        scope,
        new_id(),
        email,
        name=name,
        status="active",
        role_ids=set(role_ids) or None,
        department_id=department_id,
        department_path=department_path,
    )
    with use_scope(scope):
        create_user(System(scope, "test"), user, passwords.hash_password(PASSWORD))
    tokens = stack.login(tenant_code, email, PASSWORD)
    return {
        "id": user.user_id,
        "email": email,
        "token": tokens["access_token"],
        "refresh": tokens["refresh_token"],
        "session_id": claims_of(tokens["access_token"])["sid"],
    }


def seed_role(
    tenant_id: str, permissions: set[str] | list[str], *, data_scope: str = "all", departments: list[str] | None = None
) -> str:
    """A role granting `permissions`, stored with the tenant's role index as the application stores it (no
    grant checks: a test may give any permission); answers its id."""
    scope = Scope(tenant_id)
    with use_scope(scope):
        role = Role.new(
            scope,
            new_id(),
            code=f"r_{uuid.uuid4().hex[:10]}",
            name="Test role",
            permissions=set(permissions) or None,
            data_scope=data_scope,
            departments=set(departments or []) or None,
        )
        index = roles.current_index(scope)
        with change(System(scope, "test"), "role.create", role) as c:
            c.create(role, conflict="the role exists")
            roles.put_index(c, scope, index, [*roles.roles_of(scope), role])
    return role.role_id


def make_role(
    stack: LocalStack,
    admin_token: str,
    permissions: list[str],
    *,
    parent_id: str | None = None,
    data_scope: str = "all",
    departments: list[str] | None = None,
) -> dict[str, Any]:
    """Create a role through the API as `admin_token`; answers the role."""
    body = {
        "name": f"r_{uuid.uuid4().hex[:10]}",
        "display_name": "Test role",
        "permissions": permissions,
        "parent_id": parent_id,
        "data_scope": data_scope,
        "departments": departments or [],
    }
    reply = stack.request("POST", "/api/roles", token=admin_token, json_body=body)
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]
