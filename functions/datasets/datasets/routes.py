"""Dataset routes: definitions, previews and export jobs (thin: parse, call, answer)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
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

from datasets import service
from datasets.models import (
    CreateDatasetRequest,
    DatasetExportRequest,
    DatasetExportResponse,
    DatasetListResponse,
    DatasetPreviewRequest,
    DatasetPreviewResponse,
    DatasetResponse,
    UpdateDatasetRequest,
)

router = ApiRouter("datasets")
ID = "<dataset_id>"
_EXPORT = {"application/json": {"model": DatasetExportResponse}}


@router.get(
    "/api/datasets",
    permission="dataset.view",
    permission_name="View datasets and preview their data",
    summary="List datasets, oldest first",
)
def list_datasets(
    datasource_id: Annotated[str | None, Query(min_length=1, max_length=64, description="Of this data source")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> DatasetListResponse:
    items, next_cursor = service.list_datasets(
        actor_of(router), limit=limit, cursor=cursor, datasource_id=datasource_id
    )
    return DatasetListResponse(items=[DatasetResponse.of(d) for d in items], next_cursor=next_cursor)


@router.post(
    "/api/datasets",
    permission="dataset.create",
    permission_name="Create datasets",
    status_code=201,
    summary="Create a dataset: SQL with :name parameters on a database source, or an API call with a JMESPath",
    responses=created_as(DatasetResponse),
)
def create_dataset(body: CreateDatasetRequest) -> Response[dict[str, Any]]:
    made = DatasetResponse.of(service.create(actor_of(router), body))
    return created(made, f"/api/datasets/{made.id}")


@router.get(f"/api/datasets/{ID}", permission="dataset.view", summary="One dataset")
def get_dataset(dataset_id: str) -> DatasetResponse:
    return DatasetResponse.of(service.get(actor_of(router), dataset_id))


@router.put(
    f"/api/datasets/{ID}",
    permission="dataset.edit",
    permission_name="Edit datasets",
    summary="Change a dataset (checked again as a whole against its data source)",
)
def update_dataset(dataset_id: str, body: UpdateDatasetRequest) -> DatasetResponse:
    actor = actor_of(router)
    return DatasetResponse.of(service.update(actor, dataset_id, with_if_match(router, body)))


@router.delete(
    f"/api/datasets/{ID}",
    permission="dataset.delete",
    permission_name="Delete datasets",
    status_code=204,
    summary="Delete a dataset",
)
def delete_dataset(dataset_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), dataset_id, expected_version(router, version))
    return no_content()


@router.post(
    f"/api/datasets/{ID}/preview",
    permission="dataset.view",
    summary="Run the dataset with these parameters: columns and at most min(row_cap, 10,000) rows",
)
def preview_dataset(dataset_id: str, body: DatasetPreviewRequest) -> DatasetPreviewResponse:
    return service.preview(actor_of(router), dataset_id, body)


@router.post(
    f"/api/datasets/{ID}/export",
    permission="dataset.export",
    permission_name="Export datasets to xlsx or CSV",
    status_code=202,
    summary="Export the dataset (up to row_cap rows) to xlsx or CSV as a job; follow it at Location",
    responses={202: {"description": "Queued: follow the export at Location", "content": _EXPORT}},
)
def export_dataset(dataset_id: str, body: DatasetExportRequest) -> Response[dict[str, Any]]:
    export = DatasetExportResponse.of(service.start_export(actor_of(router), dataset_id, body), None)
    return Response(
        status_code=202,
        content_type="application/json",
        body=export.model_dump(mode="json"),
        headers={"Location": f"/api/datasets/{dataset_id}/exports/{export.id}"},
    )


@router.get(
    f"/api/datasets/{ID}/exports/<export_id>",
    permission="dataset.export",
    summary="An export job: its status, and a short-lived download link once done",
)
def get_dataset_export(dataset_id: str, export_id: str) -> DatasetExportResponse:
    return service.get_export(actor_of(router), dataset_id, export_id)
