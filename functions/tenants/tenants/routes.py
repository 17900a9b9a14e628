"""Tenant routes: platform operators only."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge import storage
from riveredge.db.files import StorageQuota
from riveredge.http import ApiRouter, actor_of, created, created_as, expected_version, with_if_match
from riveredge.schemas import TenantResponse

from tenants import service
from tenants.models import (
    CreateTenantRequest,
    StorageAmounts,
    StorageQuotaRequest,
    StorageQuotaResponse,
    TenantListResponse,
    TenantStatusRequest,
)

router = ApiRouter("tenants")


@router.post(
    "/api/tenants",
    permission="tenant.create",
    platform_only=True,
    status_code=201,
    summary="Create a tenant with its first admin (starts onboarding)",
    responses=created_as(TenantResponse),
)
def create_tenant(body: CreateTenantRequest) -> Response[dict[str, Any]]:
    tenant = TenantResponse.of(service.create(actor_of(router), body))
    return created(tenant, f"/api/tenants/{tenant.id}")


@router.get("/api/tenants", permission="tenant.view", platform_only=True, summary="List tenants")
def list_tenants(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> TenantListResponse:
    items, next_cursor = service.page(actor_of(router), limit=limit, cursor=cursor)
    return TenantListResponse(items=[TenantResponse.of(t) for t in items], next_cursor=next_cursor)


@router.get("/api/tenants/<tenant_id>", permission="tenant.view", platform_only=True, summary="Read a tenant")
def get_tenant(tenant_id: str) -> TenantResponse:
    return TenantResponse.of(service.get(actor_of(router), tenant_id))


@router.post(
    "/api/tenants/<tenant_id>/suspend",
    permission="tenant.suspend",
    platform_only=True,
    versioned=True,
    summary="Suspend a tenant: sign-in stops and live tokens stop working",
)
def suspend_tenant(
    tenant_id: str,
    body: TenantStatusRequest | None = None,
) -> TenantResponse:
    tenant = service.change_status(
        actor_of(router), tenant_id, "suspended", expected_version(router, body.version if body else None)
    )
    return TenantResponse.of(tenant)


@router.post(
    "/api/tenants/<tenant_id>/resume",
    permission="tenant.suspend",
    platform_only=True,
    versioned=True,
    summary="Resume a suspended tenant",
)
def resume_tenant(
    tenant_id: str,
    body: TenantStatusRequest | None = None,
) -> TenantResponse:
    tenant = service.change_status(
        actor_of(router), tenant_id, "active", expected_version(router, body.version if body else None)
    )
    return TenantResponse.of(tenant)


@router.post(
    "/api/tenants/<tenant_id>/retry-onboarding",
    permission="tenant.create",
    platform_only=True,
    versioned=True,
    summary="Run a failed onboarding again (a new workflow run; 409 unless the onboarding failed)",
)
def retry_onboarding(
    tenant_id: str,
    body: TenantStatusRequest | None = None,
) -> TenantResponse:
    tenant = service.retry_onboarding(
        actor_of(router), tenant_id, expected_version(router, body.version if body else None)
    )
    return TenantResponse.of(tenant)


def _quota(tenant_id: str, item: StorageQuota) -> StorageQuotaResponse:
    now = storage.usage_of(item).as_dict()
    return StorageQuotaResponse(
        tenant_id=tenant_id,
        bytes=StorageAmounts(**now["bytes"]),
        count=StorageAmounts(**now["count"]),
        limit_source=now["limit_source"],
        version=int(item.version or 0),
    )


@router.get(
    "/api/tenants/<tenant_id>/storage-quota",
    permission="tenant.view",
    platform_only=True,
    summary="A tenant's storage quota: limits (its tier's, or an operator's), use and reservations",
)
def get_storage_quota(tenant_id: str) -> StorageQuotaResponse:
    return _quota(tenant_id, service.storage_quota(actor_of(router), tenant_id))


@router.put(
    "/api/tenants/<tenant_id>/storage-quota",
    permission="tenant.quota",
    permission_name="Change tenants' quotas",
    platform_only=True,
    summary="Set a tenant's storage limits in bytes and files (null: its tier's default)",
)
def set_storage_quota(tenant_id: str, body: StorageQuotaRequest) -> StorageQuotaResponse:
    item = service.set_storage_quota(actor_of(router), tenant_id, with_if_match(router, body))
    return _quota(tenant_id, item)
