"""Export-job persistence: the only code of this function that touches DynamoDB and S3."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.exceptions import UpdateError
from riveredge import aws, keys
from riveredge.db import condition_failed
from riveredge.db.changes import System, change
from riveredge.db.data import DataSource
from riveredge.db.datasets import Dataset, DatasetExport
from riveredge.scope import Scope
from riveredge.settings import get_settings

SOURCE = "datasets"


def find_export(scope: Scope, dataset_id: str, export_id: str) -> DatasetExport | None:
    return DatasetExport.find(keys.dataset_export(scope, dataset_id, export_id))


def find_dataset(scope: Scope, dataset_id: str) -> Dataset | None:
    return Dataset.find(keys.dataset(scope, dataset_id))


def find_source(scope: Scope, datasource_id: str) -> DataSource | None:
    return DataSource.find(keys.datasource(scope, datasource_id))


def claim(export: DatasetExport, now: datetime, *, status: str = "queued") -> bool:
    """Move an export from `status` to running; False when it is not at `status` any more (another delivery
    claimed it first)."""
    try:
        export.update(
            actions=[DatasetExport.status.set("running"), DatasetExport.started_at.set(now)],
            condition=DatasetExport.status == status,
        )
    except UpdateError as error:
        if condition_failed(error):
            return False
        raise
    return True


def finish(scope: Scope, export: DatasetExport, *, before: dict[str, Any]) -> None:
    """The export's end (done or failed, as set on `export`) with its log entry and event, while it is still the
    running export this job claimed."""
    author = System(scope, "dataset-exports")
    with change(author, f"dataset.export_{export.status}", export, before=before) as c:
        c.save(export, condition=DatasetExport.status == "running", conflict="the export is not running any more")
        c.publish(
            "dataset.export_finished",
            {"dataset_id": export.dataset_id, "export_id": export.export_id, "status": export.status},
            source=SOURCE,
        )


def put_file(key: str, content: bytes, content_type: str) -> None:
    aws.s3().put_object(Bucket=get_settings().exports_bucket, Key=key, Body=content, ContentType=content_type)
