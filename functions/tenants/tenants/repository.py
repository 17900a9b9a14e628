"""Tenant persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from riveredge import keys, oplog, outbox
from riveredge.clock import utcnow
from riveredge.db import condition_failed, transaction
from riveredge.db.models import PendingAdmin, Tenant, TenantCode
from riveredge.errors import ConflictError, NotFoundError, PreconditionFailedError
from riveredge.scope import Scope, tenant_scope


def create(actor: Scope, tenant: Tenant, admin: PendingAdmin, *, actor_id: str, request_id: str | None) -> None:
    """Claim the code, store the tenant and its pending admin, log it: one transaction."""
    try:
        with transaction() as tx:
            tx.save(TenantCode.new(tenant.code, tenant.tenant_id), condition=TenantCode.pk.does_not_exist())
            tx.save(tenant, condition=Tenant.pk.does_not_exist())
            tx.save(admin)
            oplog.record(
                tx,
                actor,
                actor_id=actor_id,
                action="tenant.create",
                resource="tenant",
                resource_id=tenant.tenant_id,
                before=None,
                after=snapshot(tenant),
                request_id=request_id,
            )
            outbox.add(
                tx,
                tenant_scope(tenant.tenant_id),
                "tenants",
                "tenant.created",
                {"code": tenant.code, "name": tenant.name, "tier": tenant.tier, "attempt": tenant.onboarding_attempt},
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise ConflictError(f"tenant code '{tenant.code}' is already in use") from error
        raise


def get(tenant_id: str) -> Tenant:
    key = keys.tenant(tenant_id)
    try:
        return Tenant.get(key.pk, key.sk, consistent_read=True)
    except Tenant.DoesNotExist as error:
        raise NotFoundError("no such tenant") from error


def page(limit: int, start: dict[str, Any] | None) -> tuple[list[Tenant], dict[str, Any] | None]:
    results = Tenant.gsi1.query(keys.TENANTS_INDEX_PK, limit=limit, last_evaluated_key=start, page_size=limit)
    items = [t for t in results if isinstance(t, Tenant)]
    return items, results.last_evaluated_key


def set_status(
    actor: Scope, tenant: Tenant, status: str, event: str, *, actor_id: str, request_id: str | None
) -> Tenant:
    """Change the status if nobody changed the tenant since it was read; log it in the same transaction."""
    before = snapshot(tenant)
    tenant.status = status
    try:
        with transaction() as tx:
            tx.save(tenant)  # PynamoDB adds the version condition
            oplog.record(
                tx,
                actor,
                actor_id=actor_id,
                action=f"tenant.{status}",
                resource="tenant",
                resource_id=tenant.tenant_id,
                before=before,
                after=snapshot(tenant),
                request_id=request_id,
            )
            outbox.add(tx, tenant_scope(tenant.tenant_id), "tenants", event, {"code": tenant.code})
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the tenant has changed since it was read") from error
        raise
    return tenant


def retry_onboarding(
    actor: Scope, tenant: Tenant, window: timedelta, *, actor_id: str, request_id: str | None
) -> Tenant:
    """Back to provisioning with the next attempt number, its pending admin kept for `window` more, the
    tenant.onboarding_retried event with it: one transaction."""
    before = snapshot(tenant)
    tenant.status = "provisioning"
    tenant.onboarding_attempt = (tenant.onboarding_attempt or 1) + 1
    pending = _pending_admin(tenant.tenant_id)  # none once the admin exists (the first attempt got that far)
    try:
        with transaction() as tx:
            tx.save(tenant)  # PynamoDB adds the version condition
            if pending is not None:  # PynamoDB adds its version condition
                tx.update(pending, actions=[PendingAdmin.ttl.set(utcnow() + window)])
            oplog.record(
                tx,
                actor,
                actor_id=actor_id,
                action="tenant.retry_onboarding",
                resource="tenant",
                resource_id=tenant.tenant_id,
                before=before,
                after=snapshot(tenant),
                request_id=request_id,
            )
            outbox.add(
                tx,
                tenant_scope(tenant.tenant_id),
                "tenants",
                "tenant.onboarding_retried",
                {"code": tenant.code, "attempt": tenant.onboarding_attempt},
            )
    except TransactWriteError as error:
        if condition_failed(error):
            raise PreconditionFailedError("the tenant has changed since it was read") from error
        raise
    return tenant


def _pending_admin(tenant_id: str) -> PendingAdmin | None:
    key = keys.pending_admin(tenant_id)
    try:
        return PendingAdmin.get(key.pk, key.sk, consistent_read=True)
    except PendingAdmin.DoesNotExist:
        return None


def snapshot(tenant: Tenant) -> dict[str, Any]:
    return {
        "code": tenant.code,
        "name": tenant.name,
        "tier": tenant.tier,
        "status": tenant.status,
        "onboarding_attempt": tenant.onboarding_attempt,
    }
