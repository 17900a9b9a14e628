"""Data source routes: CRUD (the password / token write-only) and a connection test through the guard."""

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

from datasources import service
from datasources.models import (
    CreateDataSourceRequest,
    DataSourceListResponse,
    DataSourceResponse,
    DataSourceTestResponse,
    UpdateDataSourceRequest,
)

router = ApiRouter("datasources")
ID = "<datasource_id>"


@router.get(
    "/api/datasources",
    permission="datasource.view",
    permission_name="View data sources",
    summary="Every data source (PostgreSQL, MySQL / MariaDB, HTTP API); secrets shown masked",
)
def list_datasources() -> DataSourceListResponse:
    return DataSourceListResponse(items=[service.response(s) for s in service.list_sources(actor_of(router))])


@router.post(
    "/api/datasources",
    permission="datasource.create",
    permission_name="Create data sources",
    status_code=201,
    summary="Create a data source; its host must be public (or on the tenant's allow-list), its secret write-only",
    responses=created_as(DataSourceResponse),
)
def create_datasource(body: CreateDataSourceRequest) -> Response[dict[str, Any]]:
    made = service.response(service.create(actor_of(router), body))
    return created(made, f"/api/datasources/{made.id}")


@router.get(f"/api/datasources/{ID}", permission="datasource.view", summary="One data source")
def get_datasource(datasource_id: str) -> DataSourceResponse:
    return service.response(service.get(actor_of(router), datasource_id))


@router.put(
    f"/api/datasources/{ID}",
    permission="datasource.edit",
    permission_name="Edit data sources and replace their secrets",
    summary="Change a data source; a new secret replaces the stored one",
)
def update_datasource(datasource_id: str, body: UpdateDataSourceRequest) -> DataSourceResponse:
    actor = actor_of(router)
    return service.response(service.update(actor, datasource_id, with_if_match(router, body)))


@router.delete(
    f"/api/datasources/{ID}",
    permission="datasource.delete",
    permission_name="Delete data sources",
    status_code=204,
    summary="Delete a data source and schedule its secret's deletion",
)
def delete_datasource(datasource_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), datasource_id, expected_version(router, version))
    return no_content()


@router.post(
    f"/api/datasources/{ID}/test",
    permission="datasource.edit",
    summary="Connect once (through the SSRF guard) and report the server's version and the latency",
)
def test_datasource(datasource_id: str) -> DataSourceTestResponse:
    return service.test(actor_of(router), datasource_id)
