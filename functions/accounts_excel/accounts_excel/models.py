"""Request and response bodies of the account import and export routes."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from riveredge.clock import iso
from riveredge.db.models import Job
from riveredge.schemas import RequestModel, ResponseModel


class UploadResponse(ResponseModel):
    url: str = Field(description="POST the file here as multipart/form-data: the fields first, then `file`")
    fields: dict[str, str]
    key: str = Field(description="Name this key in POST /api/users/imports once the upload is done")
    expires_in: int = Field(description="Seconds the upload form stays valid")
    max_bytes: int
    content_type: str


class ImportRequest(RequestModel):
    key: str = Field(min_length=1, max_length=512, description="The key POST /api/users/imports/uploads gave")
    dry_run: bool = Field(default=False, description="Check every row and report, but store nothing")


class ImportProblem(ResponseModel):
    row: int = Field(description="The row number in the sheet")
    field: str
    problem: str


class ImportCounts(ResponseModel):
    rows: int = Field(default=0, description="Data rows read")
    valid: int = Field(default=0, description="Rows without a problem")
    created: int = Field(default=0, description="Accounts stored (0 in a dry run)")
    rejected: int = Field(default=0, description="Rows with at least one problem (none of them stored)")
    mailed: int = Field(
        default=0, description="Activation links queued for the mailer (the delivery log says when each is sent)"
    )
    mail_failed: int = Field(default=0, description="Activation links that could not be queued")


class JobResponse(ResponseModel):
    id: str
    kind: str
    status: str = Field(description="queued | running | succeeded | failed")
    dry_run: bool
    counts: ImportCounts
    problems: list[ImportProblem] = Field(description="The first problems; the report lists all of them")
    problem_count: int
    problems_truncated: bool
    error: str | None = Field(default=None, description="Why a failed job stopped")
    report_url: str | None = Field(default=None, description="A short-lived download link of the full report")
    created_by: str
    created_at: str
    updated_at: str
    finished_at: str | None = None
    version: int

    @classmethod
    def of(cls, job: Job, report_url: str | None) -> JobResponse:
        problems: list[dict[str, Any]] = list(job.problems or [])
        count = int(job.problem_count or 0)
        return cls(
            id=job.job_id,
            kind=job.kind,
            status=job.status,
            dry_run=bool(job.dry_run),
            counts=ImportCounts(**(job.counts or {})),
            problems=[ImportProblem(**p) for p in problems],
            problem_count=count,
            problems_truncated=count > len(problems),
            error=job.error,
            report_url=report_url,
            created_by=job.created_by,
            created_at=iso(job.created_at) if job.created_at else "",
            updated_at=iso(job.updated_at) if job.updated_at else "",
            finished_at=iso(job.finished_at) if job.finished_at else None,
            version=int(job.version or 0),
        )
