"""Dataset persistence: the only code of this function that touches DynamoDB, S3 and SQS."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError, UpdateError
from riveredge import aws, keys
from riveredge.actor import Actor
from riveredge.consumers import sqs
from riveredge.db import condition_failed
from riveredge.db.changes import change
from riveredge.db.data import DataSource
from riveredge.db.datasets import Dataset, DatasetExport, DatasetResult
from riveredge.observability import logger
from riveredge.scope import Scope
from riveredge.settings import get_settings

SOURCE = "datasets"
INLINE_RESULT_BYTES = 64 * 1024  # a cached result up to this size is on its item; a larger one goes to S3


def _queue_url() -> str:
    return os.environ.get("DATASET_EXPORT_QUEUE_URL", "")


# -- definitions ---------------------------------------------------------------------------------------------
def find(scope: Scope, dataset_id: str) -> Dataset | None:
    return Dataset.find(keys.dataset(scope, dataset_id))


def find_source(scope: Scope, datasource_id: str) -> DataSource | None:
    return DataSource.find(keys.datasource(scope, datasource_id), consistent=False)


def page(
    scope: Scope, limit: int, start: dict[str, Any] | None, datasource_id: str | None
) -> tuple[list[Dataset], dict[str, Any] | None]:
    """One page of datasets, oldest first (one Query; with `datasource_id`, filtered within the page)."""
    results = Dataset.query(
        keys.datasets(scope),
        filter_condition=(Dataset.datasource_id == datasource_id) if datasource_id else None,
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    items = [d for d in results if isinstance(d, Dataset)]
    return items, results.last_evaluated_key


def create(actor: Actor, dataset: Dataset) -> None:
    with change(actor, "dataset.create", dataset) as c:
        c.create(dataset, conflict="the dataset already exists")
        c.publish("dataset.created", {"dataset_id": dataset.dataset_id}, source=SOURCE)


def save(actor: Actor, dataset: Dataset, *, before: dict[str, Any]) -> None:
    with change(actor, "dataset.update", dataset, before=before) as c:
        c.save(dataset)
        c.publish("dataset.updated", {"dataset_id": dataset.dataset_id}, source=SOURCE)


def delete(actor: Actor, dataset: Dataset) -> None:
    """Delete the definition; its cached results and exports expire by their TTL (nothing reads them once the
    dataset is gone)."""
    with change(actor, "dataset.delete", dataset, before=dataset.snapshot()) as c:
        c.delete(dataset)
        c.publish("dataset.deleted", {"dataset_id": dataset.dataset_id}, source=SOURCE)


# -- the result cache -----------------------------------------------------------------------------------------
def _cache_object_key(scope: Scope, dataset_id: str, digest: str) -> str:
    return f"{scope.tenant_id}/dataset-cache/{dataset_id}/{digest}.json"


def cached(scope: Scope, dataset_id: str, digest: str, now: datetime) -> dict[str, Any] | None:
    """The cached result (columns, rows, truncated, elapsed_ms, cached_at) for `digest`, None when there is none
    or it expired (an object the item names that is gone is a miss too)."""
    item = DatasetResult.find(keys.dataset_result(scope, dataset_id, digest), consistent=False)
    if item is None or not item.fresh(now):
        return None
    if item.object_key:
        try:
            body = aws.s3().get_object(Bucket=get_settings().exports_bucket, Key=item.object_key)["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise
        try:
            stored = json.loads(body.read())
        finally:
            body.close()
        columns, rows = stored["columns"], stored["rows"]
    else:
        columns, rows = list(item.columns or []), list(item.rows or [])
    return {
        "columns": columns,
        "rows": rows,
        "truncated": bool(item.truncated),
        "elapsed_ms": float(item.elapsed_ms or 0),
        "cached_at": item.created_at,
    }


def remember(
    scope: Scope,
    dataset_id: str,
    digest: str,
    result: dict[str, Any],
    *,
    ttl_seconds: int,
    now: datetime,
) -> None:
    """Keep `result` (columns, rows, truncated, elapsed_ms) for `ttl_seconds`: on the item when small, else in
    the exports bucket with the item pointing to it. A result that cannot be kept is only logged: the caller
    has its answer already, the next one runs the query again."""
    expires = now + timedelta(seconds=ttl_seconds)
    payload = json.dumps({"columns": result["columns"], "rows": result["rows"]}, separators=(",", ":"))
    item = DatasetResult.new(
        scope,
        dataset_id,
        digest,
        truncated=bool(result["truncated"]),
        row_count=len(result["rows"]),
        elapsed_ms=float(result["elapsed_ms"]),
        expires_at=expires,
        ttl=expires,
    )
    try:
        if len(payload.encode()) <= INLINE_RESULT_BYTES:
            item.columns, item.rows = result["columns"], result["rows"]
        else:
            key = _cache_object_key(scope, dataset_id, digest)
            aws.s3().put_object(
                Bucket=get_settings().exports_bucket, Key=key, Body=payload.encode(), ContentType="application/json"
            )
            item.object_key = key
        item.save(add_version_condition=False)  # a cache entry replaces whatever was there: no version to check
    except (ClientError, PutError) as error:
        logger.warning("a dataset result could not be cached", extra={"dataset_id": dataset_id, "error": str(error)})


# -- exports --------------------------------------------------------------------------------------------------
def find_export(scope: Scope, dataset_id: str, export_id: str) -> DatasetExport | None:
    return DatasetExport.find(keys.dataset_export(scope, dataset_id, export_id))


def create_export(actor: Actor, export: DatasetExport) -> None:
    with change(actor, "dataset.export", export) as c:
        c.create(export, conflict="the export already exists")


def queue_export(scope: Scope, export: DatasetExport) -> None:
    """Send the export's job to the export queue (the dataset-exports function runs it)."""
    body = {"dataset_id": export.dataset_id, "export_id": export.export_id}
    aws.sqs().send_message(
        QueueUrl=_queue_url(),
        MessageBody=json.dumps(body),
        MessageAttributes=sqs.attributes(scope.tenant_id),  # type: ignore[arg-type]
    )


def mark_unqueued(export: DatasetExport, error: str) -> None:
    """Record that a queued export could not be sent to the queue (it never runs: failed, with why)."""
    try:
        export.update(
            actions=[
                DatasetExport.status.set("failed"),
                DatasetExport.error.set(f"the export could not be queued: {error}"[:1000]),
            ],
            condition=DatasetExport.status == "queued",
        )
    except UpdateError as failure:
        if not condition_failed(failure):
            raise


def download_url(key: str, filename: str, expires_in: int) -> str:
    """A presigned GET of an export in the exports bucket, saved under `filename` (signed locally)."""
    return aws.s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": get_settings().exports_bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        },
        ExpiresIn=expires_in,
    )
