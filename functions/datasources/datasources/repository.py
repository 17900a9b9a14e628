"""Data source persistence: the only code of this function that touches DynamoDB and Secrets Manager."""

from __future__ import annotations

from typing import Any

from riveredge import integrations, keys
from riveredge.actor import Actor
from riveredge.db.changes import change
from riveredge.db.data import DataSource
from riveredge.scope import Scope

SOURCE = "datasources"
SECRET_KIND = "datasources"  # riveredge/<stage>/datasources/<tenant id>/<datasource id>


def find(scope: Scope, datasource_id: str) -> DataSource | None:
    return DataSource.find(keys.datasource(scope, datasource_id))


def all_of(scope: Scope) -> list[DataSource]:
    return DataSource.all_of(scope)


def _event(source: DataSource) -> dict[str, Any]:
    return {"datasource_id": source.datasource_id, "type": source.type}


def create(actor: Actor, source: DataSource, secret: str | None) -> None:
    """Store the secret, then the source naming it; a source that fails to save takes its secret with it."""
    if secret is not None:
        source.secret_arn = integrations.store_secret(actor.scope, source.datasource_id, secret, kind=SECRET_KIND)
    try:
        with change(actor, "datasource.create", source) as c:
            c.create(source, conflict="the data source already exists")
            c.publish("datasource.created", _event(source), source=SOURCE)
    except Exception:
        if source.secret_arn:
            integrations.delete_secret(source.secret_arn)
        raise


def save(actor: Actor, source: DataSource, *, before: dict[str, Any], secret: str | None) -> None:
    """Save a changed source; a new secret is written first and put back as it was if the save fails."""
    previous = None
    if secret is not None:
        if source.secret_arn:
            previous = integrations.read_secret(source.secret_arn)
        source.secret_arn = integrations.store_secret(
            actor.scope, source.datasource_id, secret, source.secret_arn, kind=SECRET_KIND
        )
    try:
        with change(actor, "datasource.update", source, before=before) as c:
            c.save(source)
            c.publish("datasource.updated", _event(source), source=SOURCE)
    except Exception:
        if secret is not None and source.secret_arn:
            if previous is None:
                integrations.delete_secret(source.secret_arn)
            else:
                integrations.store_secret(
                    actor.scope, source.datasource_id, previous, source.secret_arn, kind=SECRET_KIND
                )
        raise


def delete(actor: Actor, source: DataSource) -> None:
    with change(actor, "datasource.delete", source, before=source.snapshot()) as c:
        c.delete(source)
        c.publish("datasource.deleted", _event(source), source=SOURCE)
    if source.secret_arn:
        integrations.delete_secret(source.secret_arn)
