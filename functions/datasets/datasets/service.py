"""Dataset rules: a definition is checked against its data source when saved (the SQL's ``:name`` parameters and
the API call's ``{name}`` placeholders are exactly the declared ones, the JMESPath compiles, defaults fit their
types); a preview coerces the parameters, answers from the cache when it may, else runs the query; an export is
queued as a job for the dataset-exports function."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from riveredge import cursors, datasets
from riveredge.actor import Actor
from riveredge.clock import iso, new_id, utcnow
from riveredge.datasources.sql import MYSQL, POSTGRESQL, DialectName, parameter_names, prepare
from riveredge.db.changes import expect_version
from riveredge.db.data import DATABASE_TYPES, DataSource
from riveredge.db.datasets import Dataset, DatasetExport
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, ValidationError
from riveredge.observability import logger
from riveredge.scope import Scope

from datasets import repository
from datasets.models import (
    ID_PATTERN,
    CreateDatasetRequest,
    DatasetApiCall,
    DatasetExportRequest,
    DatasetExportResponse,
    DatasetParameter,
    DatasetPreviewRequest,
    DatasetPreviewResponse,
    UpdateDatasetRequest,
)

PREVIEW_MAX_ROWS = 10_000
PREVIEW_TIMEOUT_MS = 25_000  # API Gateway gives up on a request after 29 s
PREVIEW_MAX_BYTES = 4 * 1024 * 1024  # rows of a preview answer: Lambda answers at most 6 MB
API_BODY_MAX_BYTES = 16 * 1024
EXPORT_URL_SECONDS = 900
EXPORT_DAYS = 7  # the exports bucket keeps objects 7 days; the job item goes with its file
NO_SUCH_SOURCE = "no such data source"
_ID = re.compile(ID_PATTERN)  # ids are ULIDs: anything else names nothing (and is never sent as a key)


# -- definitions ----------------------------------------------------------------------------------------------
def _source(scope: Scope, datasource_id: str, kind: str) -> DataSource:
    """The data source a definition names, of the type its kind needs (else a 422 naming datasource_id)."""
    source = repository.find_source(scope, datasource_id)
    if source is None:
        raise ValidationError("datasource_id is not valid", errors=[FieldProblem("datasource_id", NO_SUCH_SOURCE)])
    if kind == "sql" and source.type not in DATABASE_TYPES:
        message = f"is a {source.type} data source: a sql dataset needs a postgresql or mysql one"
        raise ValidationError("datasource_id is not valid", errors=[FieldProblem("datasource_id", message)])
    if kind == "api" and source.type != "http":
        message = f"is a {source.type} data source: an api dataset needs an http one"
        raise ValidationError("datasource_id is not valid", errors=[FieldProblem("datasource_id", message)])
    return source


def _checked_parameters(parameters: list[DatasetParameter]) -> tuple[list[dict[str, Any]], list[FieldProblem]]:
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    stored = []
    for n, parameter in enumerate(parameters):
        if parameter.name in seen:
            problems.append(FieldProblem(f"parameters.{n}.name", f"'{parameter.name}' is declared twice"))
        seen.add(parameter.name)
        default = parameter.default
        if default is not None:
            try:
                datasets.coerce_value(parameter.type, default, f"parameters.{n}.default")
            except ValidationError as error:
                problems.extend(error.errors)
        stored.append(parameter.model_dump())
    return stored, problems


def _used_exactly(
    declared: list[dict[str, Any]], used: dict[str, list[str]], where: str, shown: str
) -> list[FieldProblem]:
    """Every used name declared (the problem named where it is used) and every declared name used. `shown`
    writes a name as the definition does (``:{}`` in SQL, ``{{{}}}`` in an API call)."""
    names = {str(p["name"]) for p in declared}
    problems = [
        FieldProblem(field, f"{shown.format(name)} is not a declared parameter")
        for field, found in used.items()
        for name in dict.fromkeys(found)
        if name not in names
    ]
    everywhere = {name for found in used.values() for name in found}
    problems.extend(
        FieldProblem(f"parameters.{n}.name", f"{p['name']!r} is not used by the {where}")
        for n, p in enumerate(declared)
        if p["name"] not in everywhere
    )
    return problems


def _checked_sql(source: DataSource, sql: str | None, declared: list[dict[str, Any]]) -> list[FieldProblem]:
    if sql is None:
        return [FieldProblem("sql", "is required for a sql dataset")]
    dialect: DialectName = "postgresql" if source.type == "postgresql" else "mysql"
    try:
        prepare(sql, POSTGRESQL if source.type == "postgresql" else MYSQL)  # one statement, closed literals: as a run
        names = parameter_names(sql, dialect)
    except ValidationError as error:
        return list(error.errors)
    return _used_exactly(declared, {"sql": names} if names else {}, "SQL", ":{}")


def _checked_api(
    api: DatasetApiCall | None, declared: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[FieldProblem]]:
    if api is None:
        return None, [FieldProblem("api", "is required for an api dataset")]
    problems: list[FieldProblem] = []
    try:
        datasets.compile_extract(api.extract)
    except ValidationError as error:
        problems.extend(error.errors)
    if api.body is not None and api.method == "GET":
        problems.append(FieldProblem("api.body", "a GET sends no body: use POST"))
    if len(json.dumps(api.body).encode()) > API_BODY_MAX_BYTES:
        problems.append(FieldProblem("api.body", f"must be at most {API_BODY_MAX_BYTES // 1024} KB as JSON"))
    stored = api.model_dump()
    problems.extend(_used_exactly(declared, datasets.placeholders(stored), "API call", "{{{}}}"))
    return stored, problems


def _definition(
    actor: Actor,
    *,
    datasource_id: str,
    kind: str,
    sql: str | None,
    api: DatasetApiCall | None,
    parameters: list[DatasetParameter],
) -> tuple[str | None, dict[str, Any] | None, list[dict[str, Any]]]:
    """The checked (sql, api, parameters) of a definition; every problem at once in one 422."""
    source = _source(actor.scope, datasource_id, kind)
    declared, problems = _checked_parameters(parameters)
    stored_api: dict[str, Any] | None = None
    if kind == "sql":
        if api is not None:
            problems.append(FieldProblem("api", "only an api dataset has one"))
        problems.extend(_checked_sql(source, sql, declared))
    else:
        if sql is not None:
            problems.append(FieldProblem("sql", "only a sql dataset has one"))
        stored_api, found = _checked_api(api, declared)
        problems.extend(found)
    if problems:
        raise ValidationError("the dataset is not valid", errors=problems)
    return (sql if kind == "sql" else None), stored_api, declared


def list_datasets(
    actor: Actor, *, limit: int, cursor: str | None, datasource_id: str | None
) -> tuple[list[Dataset], str | None]:
    query = cursors.fingerprint({"route": "datasets", "datasource_id": datasource_id})
    start = cursors.decode(actor.scope, query, cursor)
    items, last = repository.page(actor.scope, limit, start, datasource_id)
    return items, cursors.encode(actor.scope, query, last)


def get(actor: Actor, dataset_id: str) -> Dataset:
    found = repository.find(actor.scope, dataset_id) if _ID.match(dataset_id) else None
    if found is None:
        raise NotFoundError("no such dataset")
    return found


def create(actor: Actor, body: CreateDatasetRequest) -> Dataset:
    sql, api, parameters = _definition(
        actor, datasource_id=body.datasource_id, kind=body.kind, sql=body.sql, api=body.api, parameters=body.parameters
    )
    dataset = Dataset.new(
        actor.scope,
        new_id(),
        name=body.name,
        description=body.description,
        datasource_id=body.datasource_id,
        kind=body.kind,
        sql=sql,
        api=api,
        parameters=parameters,
        row_cap=body.row_cap,
        timeout_ms=body.timeout_ms,
        cache_ttl_seconds=body.cache_ttl_seconds,
        created_by=actor.user_id,
    )
    repository.create(actor, dataset)
    return dataset


def update(actor: Actor, dataset_id: str, body: UpdateDatasetRequest) -> Dataset:
    dataset = get(actor, dataset_id)
    expect_version(dataset, body.version)
    before = dataset.snapshot()
    kind = body.kind or dataset.kind
    changed_kind = kind != dataset.kind
    current_api = DatasetApiCall.model_validate(dataset.api) if dataset.api and not changed_kind else None
    current_parameters = [DatasetParameter.model_validate(p) for p in dataset.parameters or []]
    sql, api, parameters = _definition(
        actor,
        datasource_id=body.datasource_id or dataset.datasource_id,
        kind=kind,
        sql=body.sql if body.sql is not None else (None if changed_kind else dataset.sql),
        api=body.api if body.api is not None else current_api,
        parameters=body.parameters if body.parameters is not None else current_parameters,
    )
    dataset.kind, dataset.sql, dataset.api, dataset.parameters = kind, sql, api, parameters
    dataset.datasource_id = body.datasource_id or dataset.datasource_id
    for name in ("name", "description", "row_cap", "timeout_ms", "cache_ttl_seconds"):
        value = getattr(body, name)
        if value is not None:
            setattr(dataset, name, value)
    if dataset.snapshot() != before:
        repository.save(actor, dataset, before=before)
    return dataset


def delete(actor: Actor, dataset_id: str, version: int | None) -> None:
    dataset = get(actor, dataset_id)
    expect_version(dataset, version)
    repository.delete(actor, dataset)


# -- previews -------------------------------------------------------------------------------------------------
def _run_source(scope: Scope, dataset: Dataset) -> DataSource:
    source = repository.find_source(scope, dataset.datasource_id)
    if source is None:
        raise ConflictError("the dataset's data source no longer exists: choose another one")
    return source


def _digest(dataset: Dataset, source: DataSource, values: dict[str, Any], max_rows: int) -> str:
    """What a result depends on: the dataset's and the source's versions, the values, the row limit."""
    basis = {
        "dataset": [dataset.dataset_id, int(dataset.version or 0)],
        "source": [source.datasource_id, int(source.version or 0)],
        "values": datasets.as_json(values),
        "max_rows": max_rows,
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _fit(rows: list[list[Any]], truncated: bool) -> tuple[list[list[Any]], bool]:
    """The rows that fit a preview answer (PREVIEW_MAX_BYTES of JSON); the rest cut, as the row cap cuts."""
    size = 0
    for n, row in enumerate(rows):
        size += len(json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode()) + 1
        if size > PREVIEW_MAX_BYTES:
            return rows[:n], True
    return rows, truncated


def preview(actor: Actor, dataset_id: str, body: DatasetPreviewRequest) -> DatasetPreviewResponse:
    """At most min(row_cap, 10,000) rows of the dataset for these parameters; from the cache when the dataset
    keeps results and an unexpired one exists for the same versions and values."""
    dataset = get(actor, dataset_id)
    values = datasets.coerce(list(dataset.parameters or []), body.parameters)
    source = _run_source(actor.scope, dataset)
    max_rows = min(int(dataset.row_cap), PREVIEW_MAX_ROWS)
    ttl = int(dataset.cache_ttl_seconds)
    digest = _digest(dataset, source, values, max_rows)
    now = utcnow()
    if ttl:
        hit = repository.cached(actor.scope, dataset.dataset_id, digest, now)
        if hit is not None:
            return DatasetPreviewResponse(
                columns=hit["columns"],
                rows=hit["rows"],
                row_count=len(hit["rows"]),
                truncated=hit["truncated"],
                elapsed_ms=hit["elapsed_ms"],
                cached=True,
                cached_at=iso(hit["cached_at"]) if hit["cached_at"] else None,
            )
    result = datasets.run(
        actor.scope,
        dataset,
        source,
        values,
        max_rows=max_rows,
        timeout_ms=min(int(dataset.timeout_ms), PREVIEW_TIMEOUT_MS),
    )
    rows, truncated = _fit(result.rows, result.truncated)
    columns = [{"name": c.name, "type": c.type} for c in result.columns]
    if ttl:
        answer = {"columns": columns, "rows": rows, "truncated": truncated, "elapsed_ms": result.elapsed_ms}
        repository.remember(actor.scope, dataset.dataset_id, digest, answer, ttl_seconds=ttl, now=now)
    return DatasetPreviewResponse(
        columns=columns,
        rows=rows,
        row_count=len(rows),
        truncated=truncated,
        elapsed_ms=result.elapsed_ms,
        cached=False,
    )


# -- exports --------------------------------------------------------------------------------------------------
def start_export(actor: Actor, dataset_id: str, body: DatasetExportRequest) -> DatasetExport:
    """Queue an export job (202); its parameters are checked now, so a bad value is a 422 and nothing queued."""
    dataset = get(actor, dataset_id)
    values = datasets.coerce(list(dataset.parameters or []), body.parameters)
    _run_source(actor.scope, dataset)
    export = DatasetExport.new(
        actor.scope,
        dataset.dataset_id,
        new_id(),
        dataset_version=int(dataset.version or 0),
        format=body.format,
        parameters=datasets.as_json(values),
        status="queued",
        created_by=actor.user_id,
        ttl=utcnow() + timedelta(days=EXPORT_DAYS),
    )
    repository.create_export(actor, export)
    try:
        repository.queue_export(actor.scope, export)
    except Exception as error:
        logger.exception("an export could not be queued", extra={"export_id": export.export_id})
        repository.mark_unqueued(export, type(error).__name__)
        raise
    return export


def get_export(actor: Actor, dataset_id: str, export_id: str) -> DatasetExportResponse:
    found = _ID.match(dataset_id) and _ID.match(export_id)
    export = repository.find_export(actor.scope, dataset_id, export_id) if found else None
    if export is None:
        raise NotFoundError("no such export")
    url = None
    if export.status == "done" and export.object_key:
        url = repository.download_url(export.object_key, export.filename or "export", EXPORT_URL_SECONDS)
    return DatasetExportResponse.of(export, url)
