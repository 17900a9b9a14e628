"""Data source rules: a host or URL is checked when saved (no DNS) and again when connected to (resolved,
through the guard); the password / token is write-only; a test connects once and reports what it found."""

from __future__ import annotations

import time
from typing import Any

from riveredge import datasources, integrations
from riveredge.actor import Actor
from riveredge.clock import iso, new_id, utcnow
from riveredge.db.changes import expect_version
from riveredge.db.data import DataSource
from riveredge.errors import FieldProblem, NotFoundError, ValidationError
from riveredge.outbound import OutboundError
from riveredge.schemas import stored_fields

from datasources import repository
from datasources.models import (
    CreateDataSourceRequest,
    DataSourceResponse,
    DataSourceTestResponse,
    HttpConfig,
    MysqlConfig,
    PostgresConfig,
    UpdateDataSourceRequest,
)

MASK = "******"
AUTH_WITH_SECRET = {"bearer", "basic", "header"}


def response(source: DataSource) -> DataSourceResponse:
    return DataSourceResponse(
        **stored_fields(source, source.datasource_id),
        name=source.name,
        description=source.description,
        type=source.type,
        config=dict(source.config or {}),
        secret=MASK if source.secret_arn else None,
        secret_updated_at=source.secret_updated_at,
    )


def _config(actor: Actor, body: PostgresConfig | MysqlConfig | HttpConfig) -> dict[str, Any]:
    """The config to store, its host or URL checked as far as it can be without DNS."""
    config = body.model_dump()
    if config["type"] == "http":
        integrations.check_url(actor.scope, str(config["base_url"]), field="config.base_url")
    else:
        integrations.check_host(actor.scope, str(config["host"]), field="config.host")
    return config


def _needs_secret(config: dict[str, Any], has_secret: bool) -> None:
    if config["type"] == "http" and config.get("auth") in AUTH_WITH_SECRET and not has_secret:
        raise ValidationError("secret is required", errors=[FieldProblem("secret", f"auth {config['auth']} sends one")])


def list_sources(actor: Actor) -> list[DataSource]:
    return repository.all_of(actor.scope)


def get(actor: Actor, datasource_id: str) -> DataSource:
    found = repository.find(actor.scope, datasource_id)
    if found is None:
        raise NotFoundError("no such data source")
    return found


def create(actor: Actor, body: CreateDataSourceRequest) -> DataSource:
    config = _config(actor, body.config)
    _needs_secret(config, body.secret is not None)
    source = DataSource.new(
        actor.scope,
        new_id(),
        name=body.name,
        description=body.description,
        type=config["type"],
        config=config,
        secret_updated_at=iso(utcnow()) if body.secret else None,
    )
    repository.create(actor, source, body.secret)
    return source


def update(actor: Actor, datasource_id: str, body: UpdateDataSourceRequest) -> DataSource:
    source = get(actor, datasource_id)
    expect_version(source, body.version)
    before = source.snapshot()
    if body.config is not None:
        config = _config(actor, body.config)
        if config["type"] != source.type:
            raise ValidationError("config.type cannot change", errors=[FieldProblem("config.type", "cannot change")])
        _needs_secret(config, bool(source.secret_arn) or body.secret is not None)
        source.config = config
    if body.name is not None:
        source.name = body.name
    if "description" in body.model_fields_set:
        source.description = body.description
    if body.secret is not None:
        source.secret_updated_at = iso(utcnow())
    if source.snapshot() != before or body.secret is not None:
        repository.save(actor, source, before=before, secret=body.secret)
    return source


def delete(actor: Actor, datasource_id: str, version: int | None) -> None:
    source = get(actor, datasource_id)
    expect_version(source, version)
    repository.delete(actor, source)


def test(actor: Actor, datasource_id: str) -> DataSourceTestResponse:
    """Connect once through the guard (a refused host is a 422 naming it, nothing sent) and report the server's
    version and the latency, or why it could not be reached."""
    source = get(actor, datasource_id)
    started = time.monotonic()
    try:
        probe = datasources.connect_check(actor.scope, source)
    except OutboundError as error:
        return DataSourceTestResponse(
            ok=False,
            server_version=None,
            latency_ms=datasources.elapsed_ms(started),
            reason=error.reason,
            error=error.detail,
        )
    ok = probe.status is None or 200 <= probe.status < 400
    return DataSourceTestResponse(
        ok=ok,
        server_version=probe.server_version,
        status=probe.status,
        latency_ms=probe.latency_ms,
        reason=None if ok else "bad_status",
        error=None if ok else f"the server answered {probe.status}",
    )
