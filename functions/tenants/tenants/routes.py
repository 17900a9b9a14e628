"""Tenant routes: platform operators only."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from riveredge import idempotency
from riveredge.http import ApiRouter, caller, created, current_principal
from riveredge.schemas import TenantResponse

from tenants import service
from tenants.models import CreateTenantRequest, TenantListResponse, TenantStatusRequest

router = ApiRouter("tenants")


def _actor() -> service.Actor:
    return service.Actor(current_principal(router), caller(router).request_id)


def _if_match(value: str | None, body: TenantStatusRequest | None) -> int | None:
    if body is not None and body.version is not None:
        return body.version
    if value is None:
        return None
    try:
        return int(value.strip().strip('"').removeprefix("W/").strip('"'))
    except ValueError:
        return -1  # an If-Match that names no version we ever issued is stale


@router.post(
    "/api/tenants",
    permission="tenant.create",
    platform_only=True,
    status_code=201,
    summary="Create a tenant with its first admin (starts onboarding)",
    responses={201: {"description": "Created", "content": {"application/json": {"model": TenantResponse}}}},
)
def create_tenant(
    body: CreateTenantRequest,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=idempotency.MAX_KEY_LENGTH)
    ] = None,
) -> Response[dict[str, Any]]:
    actor = _actor()

    def run() -> dict[str, Any]:
        return TenantResponse.of(service.create(actor, body)).model_dump()

    result = idempotency.once(
        idempotency_key,
        operation="POST /api/tenants",
        principal=actor.principal.user_id,
        payload=body.model_dump(mode="json", exclude={"admin": {"password"}}),  # no secret in the record
        action=run,
        lambda_context=router.lambda_context,
    )
    tenant = TenantResponse.model_validate(result)
    return created(tenant, f"/api/tenants/{tenant.id}")


@router.get("/api/tenants", permission="tenant.view", platform_only=True, summary="List tenants")
def list_tenants(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> TenantListResponse:
    items, next_cursor = service.page(_actor(), limit=limit, cursor=cursor)
    return TenantListResponse(items=[TenantResponse.of(t) for t in items], next_cursor=next_cursor)


@router.get("/api/tenants/<tenant_id>", permission="tenant.view", platform_only=True, summary="Read a tenant")
def get_tenant(tenant_id: str) -> TenantResponse:
    return TenantResponse.of(service.get(_actor(), tenant_id))


@router.post(
    "/api/tenants/<tenant_id>/suspend",
    permission="tenant.suspend",
    platform_only=True,
    summary="Suspend a tenant: sign-in stops and live tokens stop working",
)
def suspend_tenant(
    tenant_id: str,
    body: TenantStatusRequest | None = None,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> TenantResponse:
    tenant = service.change_status(_actor(), tenant_id, "suspended", _if_match(if_match, body))
    return TenantResponse.of(tenant)


@router.post(
    "/api/tenants/<tenant_id>/resume",
    permission="tenant.suspend",
    platform_only=True,
    summary="Resume a suspended tenant",
)
def resume_tenant(
    tenant_id: str,
    body: TenantStatusRequest | None = None,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> TenantResponse:
    tenant = service.change_status(_actor(), tenant_id, "active", _if_match(if_match, body))
    return TenantResponse.of(tenant)


@router.post(
    "/api/tenants/<tenant_id>/retry-onboarding",
    permission="tenant.create",
    platform_only=True,
    summary="Run a failed onboarding again (a new workflow run; 409 unless the onboarding failed)",
)
def retry_onboarding(
    tenant_id: str,
    body: TenantStatusRequest | None = None,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> TenantResponse:
    tenant = service.retry_onboarding(_actor(), tenant_id, _if_match(if_match, body))
    return TenantResponse.of(tenant)
