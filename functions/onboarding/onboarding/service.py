"""Onboarding steps. Each is idempotent: Step Functions may run a step again after a retry."""

from __future__ import annotations

import json
from typing import Any

from riveredge import aws, mail, passwords
from riveredge.clock import new_id
from riveredge.db.models import User
from riveredge.emails import normalise_email
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, ValidationError
from riveredge.scope import Scope, platform_scope, use_scope
from riveredge.settings import get_settings

from onboarding import repository
from onboarding.defaults import PLATFORM_ROLES, SUPER_ADMIN, SYSTEM_ROLES


def execution_name(tenant_id: str, attempt: int) -> str:
    """The workflow execution of one onboarding attempt (a name Step Functions accepts once)."""
    return f"onboard-{tenant_id}-{attempt}"


def start(tenant_id: str, attempt: int, correlation_id: str | None) -> dict[str, Any]:
    """Start attempt `attempt` of the tenant's workflow; an attempt that already started is left running."""
    with use_scope(_operating(tenant_id)):
        tenant = repository.tenant(tenant_id)
    if tenant.status != "provisioning" or (tenant.onboarding_attempt or 1) != attempt:
        return {"tenant_id": tenant_id, "started": False, "status": tenant.status}
    client = aws.stepfunctions()
    name = execution_name(tenant_id, attempt)
    try:
        execution = client.start_execution(
            stateMachineArn=get_settings().onboarding_state_machine_arn,
            name=name,
            input=json.dumps({"tenant_id": tenant_id, "attempt": attempt, "correlation_id": correlation_id}),
        )
    except client.exceptions.ExecutionAlreadyExists:
        return {"tenant_id": tenant_id, "started": False, "execution": name}
    return {"tenant_id": tenant_id, "started": True, "execution": execution["executionArn"]}


def seed_defaults(tenant_id: str) -> dict[str, Any]:
    """The system roles of the tenant, and its role index."""
    scope = Scope(tenant_id)
    with use_scope(scope):
        roles = repository.seed_roles(scope, SYSTEM_ROLES)
    return {"tenant_id": tenant_id, "roles": roles}


def create_admin(tenant_id: str) -> dict[str, Any]:
    """The first admin, from the pending record the tenants route left (its password already hashed)."""
    scope = Scope(tenant_id)
    with use_scope(scope):
        pending = repository.pending_admin(tenant_id)
        if pending is None:
            tenant = repository.tenant(tenant_id)
            existing = repository.find_user_by_email(scope, tenant.admin_email)
            if existing is None:
                raise NotFoundError(f"tenant {tenant_id} has no pending admin")
            return {
                "tenant_id": tenant_id,
                "admin_id": existing.user_id,
                "email": existing.email,
                "name": existing.name,
            }
        roles = {r.code: r.role_id for r in repository.roles_of(scope)}
        user = User.new(
            scope,
            new_id(),
            pending.email,
            name=pending.name,
            status="active",
            role_ids={roles[SUPER_ADMIN]},
            created_by=repository.SYSTEM_ACTOR,
        )
        repository.create_user(scope, user, pending.password_hash, consumed=pending)
    return {"tenant_id": tenant_id, "admin_id": user.user_id, "email": user.email, "name": user.name}


def _operating(tenant_id: str) -> Scope:
    """The tenant record is listed in the platform's index, so it changes in the platform scope."""
    return platform_scope().with_tenant(tenant_id)


def activate(tenant_id: str) -> dict[str, Any]:
    """Open the tenant for sign-in; the change announces tenant.activated."""
    scope = _operating(tenant_id)
    with use_scope(scope):
        tenant = repository.tenant(tenant_id)
        if tenant.status == "provisioning":
            repository.set_tenant_status(scope, tenant, "active")
    return {"tenant_id": tenant_id, "status": tenant.status}


def mark_failed(tenant_id: str, cause: str) -> dict[str, Any]:
    scope = _operating(tenant_id)
    with use_scope(scope):
        tenant = repository.tenant(tenant_id)
        if tenant.status == "provisioning":
            repository.set_tenant_status(scope, tenant, "failed")
    return {"tenant_id": tenant_id, "status": "failed", "cause": cause[:500]}


def welcome_mail(tenant_id: str, admin: dict[str, Any]) -> dict[str, Any]:
    """Queue the welcome mail of the first admin."""
    scope = Scope(tenant_id)
    with use_scope(scope):
        tenant = repository.tenant(tenant_id)
        context = {
            "user_name": str(admin["name"]),
            "user_email": str(admin["email"]),
            "login_url": mail.sign_in_link(tenant.code),
        }
        delivery_id = mail.send_by_template(scope, mail.WELCOME, [str(admin["email"])], context)
    return {"delivery_id": delivery_id}


def bootstrap_operator(email: str, name: str, password: str) -> dict[str, Any]:
    """Create a platform operator (the first one of a deployment); an existing email is left as it is."""
    try:
        email = normalise_email(email)
    except ValueError as error:
        raise ValidationError("email is not valid", errors=[FieldProblem("email", str(error))]) from error
    passwords.check_policy(password, "password")
    scope = platform_scope()
    with use_scope(scope):
        roles = repository.seed_roles(scope, PLATFORM_ROLES)
        existing = repository.find_user_by_email(scope, email)
        if existing is not None:
            return {"user_id": existing.user_id, "created": False}
        user = User.new(
            scope,
            new_id(),
            email,
            name=name,
            status="active",
            role_ids={roles["platform_admin"]},
            created_by="system:bootstrap",
        )
        try:
            repository.create_user(scope, user, passwords.hash_password(password), actor_id="system:bootstrap")
        except Exception as error:  # a concurrent bootstrap of the same email
            raise ConflictError(f"operator {email} could not be created") from error
    return {"user_id": user.user_id, "created": True}
