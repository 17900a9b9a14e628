"""Datasets: a named query on a data source (SQL with ``:name`` parameters, or an API call with a JMESPath
extraction), the cache of their results, and their export jobs.

Written by the datasets function (definitions, export requests) and the dataset-exports function (the job's
progress) through the one write path; a cached result is not a change anyone made, so it is saved directly
(no operation-log entry) and expires through the table's TTL, checked on read as well (DynamoDB deletes expired
items up to two days late).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.scope import Scope

KINDS = frozenset({"sql", "api"})
PARAMETER_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
EXPORT_FORMATS = ("xlsx", "csv")
EXPORT_STATUSES = ("queued", "running", "done", "failed")


class Dataset(TableModel, discriminator="dataset"):
    """A dataset of a tenant, at ``keys.dataset(scope, dataset_id)``.

    `kind` is ``sql`` (`sql` holds one read statement with ``:name`` parameters, for a postgresql / mysql
    source) or ``api`` (`api` holds ``{method, path, query, body, extract}`` for an http source: ``{name}``
    placeholders in the path and query values, a body value ``"{name}"`` replaced by the typed value, and a
    JMESPath expression that picks the rows out of the answer). `parameters` is a list of
    ``{name, type, required, default, label}`` (type: string | integer | number | boolean | date | datetime).
    `row_cap` caps every run (previews at 10,000 as well), `timeout_ms` is the statement / call timeout,
    `cache_ttl_seconds` how long a result is reused for the same parameters (0: never).
    """

    dataset_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    datasource_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # sql | api
    sql = UnicodeAttribute(null=True)
    api = JSONAttribute(null=True)  # {method, path, query, body, extract}
    parameters = JSONAttribute(null=True)  # [{name, type, required, default, label}]
    row_cap = NumberAttribute(default=1_000)
    timeout_ms = NumberAttribute(default=5_000)
    cache_ttl_seconds = NumberAttribute(default=0)
    created_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "dataset"
    id_attribute: ClassVar[str] = "dataset_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "datasource_id": self.datasource_id,
            "kind": self.kind,
            "sql": self.sql,
            "api": dict(self.api) if self.api else None,
            "parameters": list(self.parameters or []),
            "row_cap": int(self.row_cap),
            "timeout_ms": int(self.timeout_ms),
            "cache_ttl_seconds": int(self.cache_ttl_seconds),
        }

    @classmethod
    def new(cls, scope: Scope, dataset_id: str, **attributes: Any) -> Dataset:
        key = keys.dataset(scope, dataset_id)
        return cls(key.pk, key.sk, dataset_id=dataset_id, **attributes)


class DatasetResult(TableModel, discriminator="dataset_result"):
    """A cached result of a dataset for one set of parameters, at ``keys.dataset_result(scope, id, digest)``.

    Small results are on the item (`columns`, `rows`); a larger one is an object of the exports bucket
    (`object_key`, under ``<tenant id>/dataset-cache/``) and the item only points to it, so no item grows
    near DynamoDB's limit. `expires_at` is when it stops being used (the TTL deletes it later).
    """

    dataset_id = UnicodeAttribute()
    columns = JSONAttribute(null=True)  # [{name, type}]
    rows = JSONAttribute(null=True)  # [[...], ...] when on the item
    object_key = UnicodeAttribute(null=True)  # when in S3: {"columns": ..., "rows": ...}
    truncated = BooleanAttribute(default=False)
    row_count = NumberAttribute(default=0)
    elapsed_ms = NumberAttribute(default=0)
    expires_at = UTCDateTimeAttribute()

    noun: ClassVar[str] = "dataset result"
    id_attribute: ClassVar[str] = "sk"

    @classmethod
    def new(cls, scope: Scope, dataset_id: str, digest: str, **attributes: Any) -> DatasetResult:
        key = keys.dataset_result(scope, dataset_id, digest)
        return cls(key.pk, key.sk, dataset_id=dataset_id, **attributes)

    def fresh(self, now: datetime) -> bool:
        return self.expires_at > now


class DatasetExport(TableModel, discriminator="dataset_export"):
    """An export job of a dataset, at ``keys.dataset_export(scope, dataset_id, export_id)``.

    `status` goes queued -> running -> done (`object_key` in the exports bucket, `row_count`, `truncated`) or
    failed (`error` says why: the timeout, the SQL's problem, an unreachable source). `parameters` are the values
    the export runs with, as JSON (dates as ISO text). The item expires with its file (the exports bucket keeps
    objects 7 days).
    """

    export_id = UnicodeAttribute()
    dataset_id = UnicodeAttribute()
    dataset_version = NumberAttribute(null=True)  # the dataset's version when the export was asked for
    format = UnicodeAttribute()  # xlsx | csv
    parameters = JSONAttribute(null=True)
    status = UnicodeAttribute()  # queued | running | done | failed
    error = UnicodeAttribute(null=True)
    object_key = UnicodeAttribute(null=True)
    filename = UnicodeAttribute(null=True)
    row_count = NumberAttribute(null=True)
    truncated = BooleanAttribute(default=False)
    created_by = UnicodeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)

    noun: ClassVar[str] = "dataset export"
    id_attribute: ClassVar[str] = "export_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "dataset_version": int(self.dataset_version) if self.dataset_version is not None else None,
            "format": self.format,
            "parameters": dict(self.parameters or {}),
            "status": self.status,
            "error": self.error,
            "row_count": int(self.row_count) if self.row_count is not None else None,
            "truncated": bool(self.truncated),
        }

    @classmethod
    def new(cls, scope: Scope, dataset_id: str, export_id: str, **attributes: Any) -> DatasetExport:
        key = keys.dataset_export(scope, dataset_id, export_id)
        return cls(key.pk, key.sk, dataset_id=dataset_id, export_id=export_id, **attributes)
