"""An export job: claim it (queued -> running, once), run the dataset with the job's parameters up to its row cap,
write the rows to xlsx or CSV (riveredge.spreadsheets: every cell neutralised), put the file in the exports bucket,
and record done (row count, file) or failed (why: the timeout, the SQL's problem, the source unreachable).

Nothing the dataset's author or its source caused is raised: the queue would only deliver the job again and run
the query again. A message for a job that is running comes back once a run must have ended; a job still running
then (the function was stopped mid-way) is failed, so no export stays running for ever.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from riveredge import datasets, spreadsheets
from riveredge.clock import utcnow
from riveredge.consumers import Refused, RetryLater
from riveredge.db.datasets import DatasetExport
from riveredge.errors import DomainError
from riveredge.observability import logger
from riveredge.scope import Scope

from dataset_exports import repository
from dataset_exports.models import ExportMessage

RUN_LIMIT = timedelta(seconds=360)  # longer than the function's timeout: a running export older than this stopped
MEDIA_TYPES = {"xlsx": spreadsheets.XLSX_MEDIA_TYPE, "csv": spreadsheets.CSV_MEDIA_TYPE}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def object_key(scope: Scope, export: DatasetExport) -> str:
    return f"{scope.tenant_id}/dataset-exports/{export.dataset_id}/{export.export_id}.{export.format}"


def filename(name: str, export: DatasetExport) -> str:
    """An ASCII file name from the dataset's name and the time (a name of other letters becomes "dataset")."""
    stem = _UNSAFE.sub("-", name).strip("-._")[:60] or "dataset"
    return f"{stem}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.{export.format}"


def _reason(error: DomainError) -> str:
    details = [f"{e.field}: {e.message}" for e in error.errors]
    return ("; ".join(details) or error.detail)[:1000]


def run(scope: Scope, message: ExportMessage) -> dict[str, Any]:
    """Run the export `message` names; answers its final status (what a redelivery of the message replays)."""
    export = repository.find_export(scope, message.dataset_id, message.export_id)
    if export is None:
        raise Refused(f"no export {message.export_id} of dataset {message.dataset_id}")
    now = utcnow()
    if export.status == "running":
        if export.started_at is not None and now - export.started_at <= RUN_LIMIT:
            raise RetryLater("the export is running", delay_seconds=int(RUN_LIMIT.total_seconds()))
        _end(scope, export, error=f"the export did not finish within {int(RUN_LIMIT.total_seconds())} s")
        return {"export_id": export.export_id, "status": export.status}
    if export.status != "queued" or not repository.claim(export, now):
        return {"export_id": export.export_id, "status": export.status, "skipped": True}
    try:
        _export(scope, export)
    except DomainError as error:  # the dataset, its parameters or its source: recorded, not retried
        _end(scope, export, error=_reason(error))
    except Exception:
        logger.exception("an export stopped unexpectedly", extra={"export_id": export.export_id})
        _end(scope, export, error="the export stopped unexpectedly")
    return {"export_id": export.export_id, "status": export.status}


def _export(scope: Scope, export: DatasetExport) -> None:
    dataset = repository.find_dataset(scope, export.dataset_id)
    if dataset is None:
        _end(scope, export, error="the dataset was deleted")
        return
    source = repository.find_source(scope, dataset.datasource_id)
    if source is None:
        _end(scope, export, error="the dataset's data source no longer exists")
        return
    values = datasets.coerce(list(dataset.parameters or []), dict(export.parameters or {}))
    result = datasets.run(
        scope, dataset, source, values, max_rows=int(dataset.row_cap), timeout_ms=int(dataset.timeout_ms)
    )
    headers = [column.name for column in result.columns]
    rows = ([datasets.cell(value) for value in row] for row in result.rows)
    if export.format == "csv":
        content = spreadsheets.csv_bytes(headers, rows)
    else:
        content = spreadsheets.workbook_bytes(dataset.name, headers, rows)
    key = object_key(scope, export)
    repository.put_file(key, content, MEDIA_TYPES[export.format])
    _end(
        scope,
        export,
        object_key=key,
        filename=filename(dataset.name, export),
        row_count=len(result.rows),
        truncated=result.truncated,
    )


def _end(scope: Scope, export: DatasetExport, *, error: str | None = None, **done: Any) -> None:
    """Record the export's end: failed with `error`, else done with the file's attributes."""
    before = export.snapshot()
    export.status = "failed" if error else "done"
    export.error = error
    for name, value in done.items():
        setattr(export, name, value)
    export.finished_at = utcnow()
    repository.finish(scope, export, before=before)
