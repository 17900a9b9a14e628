"""Routes of the account import template, imports, import jobs and the account export (thin: parse, call, answer)."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from riveredge import custom_fields
from riveredge.db.directory import UserFilter
from riveredge.http import AUTHENTICATED, ApiRouter, CustomFieldQuery, actor_of
from riveredge.spreadsheets import XLSX_MEDIA_TYPE

from accounts_excel import service
from accounts_excel.models import ImportRequest, JobResponse, UploadResponse

router = ApiRouter("accounts-excel")

_WORKBOOK = {
    200: {
        "description": "The workbook (send `Accept` with its media type to receive the bytes through API Gateway)",
        "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}
_JOB = {"application/json": {"model": JobResponse}}


def _file(download: service.Download) -> Response[str]:
    response: Response[str] = Response(
        status_code=200,
        content_type=download.media_type,
        body=base64.b64encode(download.content).decode(),
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": "no-store",
        },
    )
    # Already base64: Powertools would base64 raw bytes itself, but its response validation first
    # serialises the body as JSON text, which bytes that are not UTF-8 cannot be.
    response.base64_encoded = True
    return response


@router.get(
    "/api/users/import-template",
    permission="user.import",
    permission_name="Import accounts from Excel",
    summary="Download the Excel template of an account import (header row and instructions)",
    responses=_WORKBOOK,
)
def get_import_template() -> Response[str]:
    return _file(service.import_template(actor_of(router)))


@router.post(
    "/api/users/imports/uploads",
    permission="user.import",
    permission_name="Import accounts from Excel",
    summary="A presigned S3 POST to upload a workbook to import (xlsx, at most 20 MB)",
)
def start_import_upload() -> UploadResponse:
    upload = service.start_upload(actor_of(router))
    return UploadResponse(
        url=upload.url,
        fields=upload.fields,
        key=upload.key,
        expires_in=upload.expires_in,
        max_bytes=upload.max_bytes,
        content_type=upload.content_type,
    )


@router.post(
    "/api/users/imports",
    permission="user.import",
    permission_name="Import accounts from Excel",
    idempotent=True,
    summary="Import an uploaded workbook: checked row by row, reported; large files answer 202 with a job",
    responses={
        200: {"description": "Imported in the request: the finished job with its report", "content": _JOB},
        202: {"description": "Queued: follow the job at Location", "content": _JOB},
    },
)
def import_users(body: ImportRequest) -> Response[dict[str, Any]]:
    answer = service.start_import(actor_of(router), body, router.lambda_context)
    job = JobResponse.of(answer.job, answer.report_url)
    headers = {"Location": f"/api/jobs/{job.id}"} if answer.status_code == 202 else {}
    return Response(
        status_code=answer.status_code,
        content_type="application/json",
        body=job.model_dump(mode="json"),
        headers=headers,
    )


@router.get(
    "/api/jobs/<job_id>",
    permission=AUTHENTICATED,
    summary="Read a job (an account import): status, counts, first problems and a report link",
)
def get_job(job_id: str) -> JobResponse:
    answer = service.get_job(actor_of(router), job_id)
    return JobResponse.of(answer.job, answer.report_url)


@router.get(
    "/api/users/export",
    permission="user.export",
    permission_name="Export accounts to Excel",
    summary="Download the filtered account list as an Excel workbook (at most 10,000 accounts)",
    responses=_WORKBOOK,
)
def export_users(
    department_id: Annotated[str | None, Query(max_length=64, description="This department and below")] = None,
    status: Annotated[Literal["active", "disabled", "invited"] | None, Query()] = None,
    role_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Part of a name or email")] = None,
    custom_field: CustomFieldQuery = None,
) -> Response[str]:
    actor = actor_of(router)
    custom = custom_fields.filters(actor.scope, "user", custom_field)
    wanted = UserFilter(department_id=department_id, status=status, role_id=role_id, q=q, custom=custom)
    return _file(service.export_users(actor, wanted))
