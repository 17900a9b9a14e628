"""Tenant rules: codes are unique, onboarding runs as a workflow, status moves one way at a time."""

from __future__ import annotations

from datetime import timedelta

from riveredge import cursors, passwords, storage
from riveredge.actor import Actor
from riveredge.clock import new_id, utcnow
from riveredge.db.changes import System, expect_version
from riveredge.db.files import StorageQuota
from riveredge.db.models import PendingAdmin, Tenant
from riveredge.errors import ConflictError, NotFoundError, PreconditionFailedError
from riveredge.scope import Scope, use_scope

from tenants import repository
from tenants.models import CreateTenantRequest, StorageQuotaRequest

ONBOARDING_WINDOW = timedelta(days=1)
TRANSITIONS = {"suspended": {"active"}, "active": {"suspended"}}
STATUS_EVENTS = {"suspended": "tenant.suspended", "active": "tenant.resumed"}


def _acting_for(actor: Actor, tenant_id: str) -> Scope:
    return actor.principal.scope.with_tenant(tenant_id)


def _operator(actor: Actor, scope: Scope) -> System:
    """The operator as the author of a change made in the platform scope acting for one tenant."""
    return System(scope, actor.user_id, actor.request_id)


def _valid_tenant_id(tenant_id: str) -> bool:
    try:
        Scope(tenant_id)
    except ValueError:
        return False
    return tenant_id != "platform"


def create(actor: Actor, request: CreateTenantRequest) -> Tenant:
    """Store the tenant (status provisioning) with its tenant.created event, which starts its onboarding.

    Saving the tenant and starting its workflow cannot diverge: the event is in the tenant's transaction
    (riveredge.outbox) and the onboarding function starts the workflow when the event reaches it.
    """
    passwords.check_policy(request.admin.password, "admin.password")
    tenant_id = new_id()
    tenant = Tenant.new(
        tenant_id,
        code=request.code,
        name=request.name,
        tier=request.tier,
        status="provisioning",
        admin_email=str(request.admin.email).lower(),
        password_policy=dict(passwords.DEFAULT_POLICY),
        onboarding_attempt=1,
    )
    admin = PendingAdmin.new(
        tenant_id,
        email=str(request.admin.email).lower(),
        name=request.admin.name,
        password_hash=passwords.hash_password(request.admin.password),
    )
    admin.ttl = utcnow() + ONBOARDING_WINDOW
    with use_scope(_acting_for(actor, tenant_id)) as scope:
        repository.create(_operator(actor, scope), tenant, admin)
    return tenant


def retry_onboarding(actor: Actor, tenant_id: str, expected_version: int | None) -> Tenant:
    """Start the onboarding of a tenant whose onboarding failed again (a new workflow run, from the start)."""
    tenant = get(actor, tenant_id)
    if expected_version is not None and expected_version != tenant.version:
        raise PreconditionFailedError(f"the tenant is at version {tenant.version}, not {expected_version}")
    if tenant.status != "failed":
        raise ConflictError(f"only a tenant whose onboarding failed can retry it (this one is {tenant.status})")
    with use_scope(_acting_for(actor, tenant_id)) as scope:
        repository.retry_onboarding(_operator(actor, scope), tenant, ONBOARDING_WINDOW)
    return tenant


def get(actor: Actor, tenant_id: str) -> Tenant:
    if not _valid_tenant_id(tenant_id):
        raise NotFoundError("no such tenant")
    with use_scope(_acting_for(actor, tenant_id)):
        return repository.get(tenant_id)


def page(actor: Actor, *, limit: int, cursor: str | None) -> tuple[list[Tenant], str | None]:
    scope = actor.principal.scope
    query = cursors.fingerprint({"route": "tenants"})
    start = cursors.decode(scope, query, cursor)
    items, last = repository.page(limit, start)
    return items, cursors.encode(scope, query, last)


def change_status(actor: Actor, tenant_id: str, status: str, expected_version: int | None) -> Tenant:
    """Suspend or resume; a suspended tenant's users cannot sign in and their tokens stop working."""
    tenant = get(actor, tenant_id)
    if expected_version is not None and expected_version != tenant.version:
        raise PreconditionFailedError(f"the tenant is at version {tenant.version}, not {expected_version}")
    if tenant.status == status:
        return tenant
    if tenant.status not in TRANSITIONS[status]:
        raise ConflictError(f"a tenant that is {tenant.status} cannot become {status}")
    with use_scope(_acting_for(actor, tenant_id)) as scope:
        repository.set_status(_operator(actor, scope), tenant, status, STATUS_EVENTS[status])
    return tenant


def storage_quota(actor: Actor, tenant_id: str) -> StorageQuota:
    """The tenant's storage quota (its tier's limits until an operator set its own)."""
    get(actor, tenant_id)
    with use_scope(_acting_for(actor, tenant_id)):
        return storage.current(Scope(tenant_id))  # a read: a tenant that stored nothing has no item yet


def set_storage_quota(actor: Actor, tenant_id: str, request: StorageQuotaRequest) -> StorageQuota:
    """Set the tenant's storage limits (null: the tier's); what is left moves by the difference at once, and
    uploads already stored stay even when they are now over the new limit."""
    tenant = get(actor, tenant_id)
    with use_scope(_acting_for(actor, tenant_id)) as scope:
        expect_version(storage.current(Scope(tenant_id)), request.version)  # version 0 while not stored
        item = storage.quota(Scope(tenant_id))
        tier_bytes, tier_count = storage.tier_limits(tenant.tier)
        limit_bytes = tier_bytes if request.limit_bytes is None else request.limit_bytes
        limit_count = tier_count if request.limit_count is None else request.limit_count
        source = "tier" if request.limit_bytes is None and request.limit_count is None else "operator"
        if (int(item.limit_bytes), int(item.limit_count), item.limit_source) == (limit_bytes, limit_count, source):
            return item
        return repository.set_storage_limits(_operator(actor, scope), tenant_id, item, limit_bytes, limit_count, source)
