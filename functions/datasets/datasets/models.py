"""Request and response bodies of the dataset routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue
from riveredge.clock import iso
from riveredge.datasets import PARAMETER_NAME
from riveredge.db.datasets import Dataset, DatasetExport
from riveredge.schemas import RequestModel, ResponseModel, StoredObject, stored_fields

ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
ObjectId = Annotated[str, Field(pattern=ID_PATTERN, description="A ULID")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
ParameterType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
Scalar = str | int | float | bool | None
Values = Annotated[
    dict[Annotated[str, Field(max_length=63)], JsonValue],
    Field(
        max_length=50,
        description="A value for each parameter to set, as its type reads it (the others take their default)",
    ),
]

ROW_CAP_MAX = 100_000
TIMEOUT_MS_MAX = 30_000
CACHE_TTL_MAX = 86_400


class DatasetParameter(RequestModel):
    name: Annotated[str, Field(pattern=PARAMETER_NAME, description="`:name` in the SQL, `{name}` in an API call")]
    type: ParameterType = "string"
    required: bool = False
    default: Scalar = Field(default=None, description="Used when a run gives no value (checked against `type`)")
    label: Annotated[str, Field(max_length=100)] | None = None


class DatasetApiCall(RequestModel):
    """The call an API dataset makes on its http data source, and what it keeps of the answer."""

    method: Literal["GET", "POST"] = "GET"
    path: Annotated[str, Field(max_length=2000, pattern=r"^(/[^\s?#\\]*)?$")] = Field(
        default="",
        description="Appended to the source's base URL (no query: see `query`); `{name}` placeholders are "
        "percent-encoded",
    )
    query: dict[Annotated[str, Field(min_length=1, max_length=100)], Annotated[str, Field(max_length=2000)]] = Field(
        default_factory=dict, max_length=50, description="Query parameters; `{name}` placeholders in the values"
    )
    body: JsonValue = Field(default=None, description='A JSON body (POST); a value "{name}" becomes the typed value')
    extract: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        default="@", description="A JMESPath expression picking the rows out of the answer (`data.items[*]`)"
    )


class CreateDatasetRequest(RequestModel):
    name: Name
    description: Annotated[str, Field(max_length=1000)] | None = None
    datasource_id: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["sql", "api"]
    sql: Annotated[str, Field(min_length=1, max_length=20_000)] | None = Field(
        default=None, description="One read statement with `:name` parameters (kind sql)"
    )
    api: DatasetApiCall | None = Field(default=None, description="The API call (kind api)")
    parameters: list[DatasetParameter] = Field(default_factory=list, max_length=50)
    row_cap: int = Field(default=1_000, ge=1, le=ROW_CAP_MAX, description="Rows at most (previews: 10,000 at most)")
    timeout_ms: int = Field(default=5_000, ge=100, le=TIMEOUT_MS_MAX)
    cache_ttl_seconds: int = Field(default=0, ge=0, le=CACHE_TTL_MAX, description="0: results are never reused")


class UpdateDatasetRequest(RequestModel):
    """The fields to change; the result is checked as a whole (a changed `kind` needs its `sql` or `api`)."""

    version: Version
    name: Name | None = None
    description: Annotated[str, Field(max_length=1000)] | None = None
    datasource_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    kind: Literal["sql", "api"] | None = None
    sql: Annotated[str, Field(min_length=1, max_length=20_000)] | None = None
    api: DatasetApiCall | None = None
    parameters: list[DatasetParameter] | None = Field(default=None, max_length=50)
    row_cap: int | None = Field(default=None, ge=1, le=ROW_CAP_MAX)
    timeout_ms: int | None = Field(default=None, ge=100, le=TIMEOUT_MS_MAX)
    cache_ttl_seconds: int | None = Field(default=None, ge=0, le=CACHE_TTL_MAX)


class DatasetResponse(StoredObject):
    name: str
    description: str | None
    datasource_id: str
    kind: str
    sql: str | None
    api: dict[str, Any] | None
    parameters: list[dict[str, Any]]
    row_cap: int
    timeout_ms: int
    cache_ttl_seconds: int
    created_by: str | None

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetResponse:
        return cls(
            **stored_fields(dataset, dataset.dataset_id),
            name=dataset.name,
            description=dataset.description,
            datasource_id=dataset.datasource_id,
            kind=dataset.kind,
            sql=dataset.sql,
            api=dict(dataset.api) if dataset.api else None,
            parameters=list(dataset.parameters or []),
            row_cap=int(dataset.row_cap),
            timeout_ms=int(dataset.timeout_ms),
            cache_ttl_seconds=int(dataset.cache_ttl_seconds),
            created_by=dataset.created_by,
        )


class DatasetListResponse(ResponseModel):
    items: list[DatasetResponse]
    next_cursor: str | None = None


class DatasetPreviewRequest(RequestModel):
    parameters: Values = Field(default_factory=dict)


class DatasetColumn(ResponseModel):
    name: str
    type: str = Field(description="The server's type name (sql), or the JSON type of the values (api)")


class DatasetPreviewResponse(ResponseModel):
    columns: list[DatasetColumn]
    rows: list[list[Any]]
    row_count: int
    truncated: bool = Field(description="More rows exist than the preview shows")
    elapsed_ms: float = Field(description="How long the query or call took (when it ran, for a cached result)")
    cached: bool = Field(description="Answered from the result cache: the query did not run again")
    cached_at: str | None = None


class DatasetExportRequest(RequestModel):
    parameters: Values = Field(default_factory=dict)
    format: Literal["xlsx", "csv"] = "xlsx"


class DatasetExportResponse(StoredObject):
    dataset_id: str
    status: str = Field(description="queued | running | done | failed")
    format: str
    parameters: dict[str, Any]
    row_count: int | None = None
    truncated: bool
    error: str | None = Field(default=None, description="Why a failed export stopped")
    url: str | None = Field(default=None, description="A short-lived download link, once done")
    filename: str | None = None
    created_by: str
    finished_at: str | None = None

    @classmethod
    def of(cls, export: DatasetExport, url: str | None) -> DatasetExportResponse:
        return cls(
            **stored_fields(export, export.export_id),
            dataset_id=export.dataset_id,
            status=export.status,
            format=export.format,
            parameters=dict(export.parameters or {}),
            row_count=int(export.row_count) if export.row_count is not None else None,
            truncated=bool(export.truncated),
            error=export.error,
            url=url,
            filename=export.filename if export.status == "done" else None,
            created_by=export.created_by,
            finished_at=iso(export.finished_at) if export.finished_at else None,
        )
