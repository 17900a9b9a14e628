"""Tenant persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from riveredge import keys, storage
from riveredge.clock import utcnow
from riveredge.db.changes import Author, change
from riveredge.db.files import StorageQuota
from riveredge.db.models import PendingAdmin, Tenant, TenantCode
from riveredge.scope import tenant_scope


def create(actor: Author, tenant: Tenant, admin: PendingAdmin) -> None:
    """Claim the code, store the tenant and its pending admin, log it, announce tenant.created: one transaction."""
    taken = f"tenant code '{tenant.code}' is already in use"
    with change(actor, "tenant.create", tenant) as c:
        c.create(TenantCode.new(tenant.code, tenant.tenant_id), conflict=taken)
        c.create(tenant, conflict=taken)
        c.save(admin, conflict=taken)
        c.publish(
            "tenant.created",
            {"code": tenant.code, "name": tenant.name, "tier": tenant.tier, "attempt": tenant.onboarding_attempt},
            source="tenants",
            scope=tenant_scope(tenant.tenant_id),
        )


def get(tenant_id: str) -> Tenant:
    return Tenant.get_or_404(keys.tenant(tenant_id))


def page(limit: int, start: dict[str, Any] | None) -> tuple[list[Tenant], dict[str, Any] | None]:
    results = Tenant.gsi1.query(keys.TENANTS_INDEX_PK, limit=limit, last_evaluated_key=start, page_size=limit)
    items = [t for t in results if isinstance(t, Tenant)]
    return items, results.last_evaluated_key


def set_status(actor: Author, tenant: Tenant, status: str, event: str) -> Tenant:
    """Change the status if nobody changed the tenant since it was read; logged and announced with it."""
    before = tenant.snapshot()
    tenant.status = status
    with change(actor, f"tenant.{status}", tenant, before=before) as c:
        c.save(tenant)
        c.publish(event, {"code": tenant.code}, source="tenants", scope=tenant_scope(tenant.tenant_id))
    return tenant


def retry_onboarding(actor: Author, tenant: Tenant, window: timedelta) -> Tenant:
    """Back to provisioning with the next attempt number, its pending admin kept for `window` more, the
    tenant.onboarding_retried event with it: one transaction."""
    before = tenant.snapshot()
    tenant.status = "provisioning"
    tenant.onboarding_attempt = (tenant.onboarding_attempt or 1) + 1
    pending = PendingAdmin.find(keys.pending_admin(tenant.tenant_id))  # gone once the first attempt made the admin
    with change(actor, "tenant.retry_onboarding", tenant, before=before) as c:
        c.save(tenant)
        if pending is not None:
            c.update(pending, [PendingAdmin.ttl.set(utcnow() + window)])
        c.publish(
            "tenant.onboarding_retried",
            {"code": tenant.code, "attempt": tenant.onboarding_attempt},
            source="tenants",
            scope=tenant_scope(tenant.tenant_id),
        )
    return tenant


def set_storage_limits(
    actor: Author, tenant_id: str, item: StorageQuota, limit_bytes: int, limit_count: int, source: str
) -> StorageQuota:
    """Set a tenant's storage limits on the quota item read (logged in the operator's scope)."""
    before = item.snapshot()
    with change(actor, "tenant.storage_quota", item, before=before) as c:
        storage.set_limits(c, item, limit_bytes, limit_count, source)
        item.limit_bytes, item.limit_count, item.limit_source = limit_bytes, limit_count, source  # logged after
    return StorageQuota.get_or_404(keys.storage_quota(tenant_scope(tenant_id)))
