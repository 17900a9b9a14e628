"""Integration routes, and the operators' per-tenant outbound allow-list."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from riveredge.http import (
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    with_if_match,
)

from integrations import service
from integrations.models import (
    AllowListRequest,
    AllowListResponse,
    CreateIntegrationRequest,
    IntegrationListResponse,
    IntegrationResponse,
    IntegrationTestResponse,
    UpdateIntegrationRequest,
)

router = ApiRouter("integrations")
allow_list_router = ApiRouter("tenants")
ID = "<integration_id>"


@router.get(
    "/api/integrations",
    permission="integration.view",
    permission_name="View integrations",
    summary="Every integration (OAuth 2, API, webhook); secrets shown masked",
)
def list_integrations() -> IntegrationListResponse:
    found = service.list_integrations(actor_of(router))
    return IntegrationListResponse(items=[service.response(i) for i in found])


@router.post(
    "/api/integrations",
    permission="integration.create",
    permission_name="Create integrations",
    status_code=201,
    summary="Create an integration; its URLs must be public http(s) and its secret is write-only",
    responses=created_as(IntegrationResponse),
)
def create_integration(body: CreateIntegrationRequest) -> Response[dict[str, Any]]:
    made = service.response(service.create(actor_of(router), body))
    return created(made, f"/api/integrations/{made.id}")


@router.get(f"/api/integrations/{ID}", permission="integration.view", summary="One integration")
def get_integration(integration_id: str) -> IntegrationResponse:
    return service.response(service.get(actor_of(router), integration_id))


@router.put(
    f"/api/integrations/{ID}",
    permission="integration.edit",
    permission_name="Edit integrations and rotate their secrets",
    summary="Change an integration; a new secret rotates it",
)
def update_integration(integration_id: str, body: UpdateIntegrationRequest) -> IntegrationResponse:
    actor = actor_of(router)
    return service.response(service.update(actor, integration_id, with_if_match(router, body)))


@router.delete(
    f"/api/integrations/{ID}",
    permission="integration.delete",
    permission_name="Delete integrations",
    status_code=204,
    summary="Delete an integration and schedule its secret's deletion",
)
def delete_integration(integration_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), integration_id, expected_version(router, version))
    return no_content()


@router.post(
    f"/api/integrations/{ID}/test",
    permission="integration.test",
    permission_name="Test integrations",
    summary="Call the integration's endpoint once (through the SSRF guard) and report its status and latency",
)
def test_integration(integration_id: str) -> IntegrationTestResponse:
    return service.test(actor_of(router), integration_id)


@allow_list_router.get(
    "/api/tenants/<tenant_id>/outbound-allow-list",
    permission="integration.allow_list",
    permission_name="Manage tenants' outbound allow-lists",
    platform_only=True,
    summary="The internal hosts a tenant's outbound calls may reach (empty: public addresses only)",
)
def get_allow_list(tenant_id: str) -> AllowListResponse:
    return service.allow_list(actor_of(allow_list_router), tenant_id)


@allow_list_router.put(
    "/api/tenants/<tenant_id>/outbound-allow-list",
    permission="integration.allow_list",
    platform_only=True,
    summary="Set the internal hosts (names or CIDR networks) a tenant's outbound calls may reach",
)
def set_allow_list(tenant_id: str, body: AllowListRequest) -> AllowListResponse:
    return service.set_allow_list(actor_of(allow_list_router), tenant_id, with_if_match(allow_list_router, body))
