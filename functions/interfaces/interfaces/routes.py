"""API registry routes: interfaces (CRUD, filtered pages), their test calls and runs, and the OpenAPI export."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge.clock import iso
from riveredge.db.interfaces import Interface, InterfaceTestRun
from riveredge.http import (
    DELETED,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    with_if_match,
)
from riveredge.schemas import stored_fields

from interfaces import service
from interfaces.models import (
    CreateInterfaceRequest,
    InterfaceListResponse,
    InterfaceParameterResponse,
    InterfaceResponse,
    InterfaceResponseSpecResponse,
    InterfaceSchemaProblem,
    InterfaceTestRequest,
    InterfaceTestRunListResponse,
    InterfaceTestRunResponse,
    Method,
    UpdateInterfaceRequest,
)

router = ApiRouter("interfaces")
PATH = "/api/interfaces"
ID = "<interface_id>"
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=2048)]
GroupQuery = Annotated[str | None, Query(min_length=1, max_length=100)]
TagQuery = Annotated[str | None, Query(min_length=1, max_length=50)]


def _interface(item: Interface) -> InterfaceResponse:
    return InterfaceResponse(
        **stored_fields(item, item.interface_id),
        name=item.name,
        group=item.group,
        description=item.description,
        method=item.method,
        path=item.path,
        integration_id=item.integration_id,
        parameters=[InterfaceParameterResponse.model_validate(p) for p in item.parameters or []],
        request_body=item.request_body,
        responses={code: InterfaceResponseSpecResponse.model_validate(r) for code, r in (item.responses or {}).items()},
        auth_type=item.auth_type,
        api_key_header=item.api_key_header,
        tags=sorted(item.tags or []),
        created_by=item.created_by,
        updated_by=item.updated_by,
    )


def _run(run: InterfaceTestRun) -> InterfaceTestRunResponse:
    return InterfaceTestRunResponse(
        id=run.test_id,
        interface_id=run.interface_id,
        method=run.method,
        url=run.url,
        ok=bool(run.ok),
        status=None if run.status is None else int(run.status),
        latency_ms=float(run.latency_ms or 0),
        response_headers=dict(run.response_headers or {}),
        body=run.body,
        body_encoding="base64" if run.body_encoding == "base64" else "utf-8",
        body_bytes=int(run.body_bytes or 0),
        body_truncated=bool(run.body_truncated),
        schema_matched=run.schema_matched,
        schema_errors=[InterfaceSchemaProblem(**p) for p in run.schema_errors or []],
        error=run.error,
        created_at=iso(run.created_at) if run.created_at else "",
        created_by=run.created_by,
        expires_at=iso(run.ttl) if run.ttl else None,
    )


@router.get(
    f"{PATH}/openapi.json",
    permission="api.view",
    permission_name="View the API registry",
    summary="The registry (or one group or tag of it) as an OpenAPI 3.1 document",
    responses={200: {"description": "An OpenAPI 3.1 document", "content": {"application/json": {}}}},
)
def export_openapi(group: GroupQuery = None, tag: TagQuery = None) -> dict[str, Any]:
    return service.openapi_document(actor_of(router), group=group, tag=tag)


@router.get(
    PATH,
    permission="api.view",
    summary="The described interfaces, oldest first; filter by group, tag or method, or search the name (q)",
)
def list_interfaces(
    group: GroupQuery = None,
    tag: TagQuery = None,
    method: Annotated[Method | None, Query()] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> InterfaceListResponse:
    items, next_cursor = service.list_interfaces(
        actor_of(router), group=group, tag=tag, method=method, q=q, limit=limit, cursor=cursor
    )
    return InterfaceListResponse(items=[_interface(i) for i in items], next_cursor=next_cursor)


@router.post(
    PATH,
    permission="api.create",
    permission_name="Describe interfaces in the API registry",
    status_code=201,
    summary="Describe an interface: method and path (one interface each), parameters, body and responses as "
    "JSON Schemas, its auth type",
    responses=created_as(InterfaceResponse),
)
def create_interface(body: CreateInterfaceRequest) -> Response[dict[str, Any]]:
    item = service.create(actor_of(router), body)
    return created(_interface(item), f"{PATH}/{item.interface_id}")


@router.get(f"{PATH}/{ID}", permission="api.view", summary="One interface")
def get_interface(interface_id: str) -> InterfaceResponse:
    return _interface(service.get(actor_of(router), interface_id))


@router.put(
    f"{PATH}/{ID}",
    permission="api.edit",
    permission_name="Edit interfaces of the API registry",
    summary="Change an interface (checked whole again, as when it was created)",
)
def update_interface(interface_id: str, body: UpdateInterfaceRequest) -> InterfaceResponse:
    return _interface(service.update(actor_of(router), interface_id, with_if_match(router, body)))


@router.delete(
    f"{PATH}/{ID}",
    permission="api.delete",
    permission_name="Delete interfaces of the API registry",
    status_code=204,
    summary="Delete an interface, its route and its test runs",
    responses=DELETED,
)
def delete_interface(interface_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), interface_id, expected_version(router, version))
    return no_content()


@router.post(
    f"{PATH}/{ID}/test",
    permission="api.test",
    permission_name="Test-call interfaces of the API registry",
    status_code=201,
    summary="Call the interface once through the SSRF guard with the values sent (checked against its schemas) "
    "and record the run: status, latency, headers, the body's first 4 KiB, whether it matched its schema",
    responses=created_as(InterfaceTestRunResponse),
)
def run_interface_test(interface_id: str, body: InterfaceTestRequest | None = None) -> Response[dict[str, Any]]:
    run = service.test(actor_of(router), interface_id, body or InterfaceTestRequest())
    return created(_run(run), f"{PATH}/{interface_id}/tests/{run.test_id}")


@router.get(f"{PATH}/{ID}/tests", permission="api.view", summary="An interface's test runs, newest first (30 days)")
def list_test_runs(interface_id: str, limit: Limit = 50, cursor: Cursor = None) -> InterfaceTestRunListResponse:
    items, next_cursor = service.runs_of(actor_of(router), interface_id, limit, cursor)
    return InterfaceTestRunListResponse(items=[_run(r) for r in items], next_cursor=next_cursor)


@router.get(f"{PATH}/{ID}/tests/<test_id>", permission="api.view", summary="One test run of an interface")
def get_test_run(interface_id: str, test_id: str) -> InterfaceTestRunResponse:
    return _run(service.run_of(actor_of(router), interface_id, test_id))
