"""Integration persistence: the only code of this function that touches DynamoDB and Secrets Manager."""

from __future__ import annotations

from typing import Any

from riveredge import config_cache, integrations, keys
from riveredge.actor import Actor
from riveredge.db.changes import Author, change
from riveredge.db.config import Integration, OutboundAllowList
from riveredge.scope import Scope

SOURCE = "integrations"


def find(scope: Scope, integration_id: str) -> Integration | None:
    return Integration.find(keys.integration(scope, integration_id))


def all_of(scope: Scope) -> list[Integration]:
    found = Integration.query(keys.integrations(scope))
    return [i for i in found if isinstance(i, Integration)]


def create(actor: Actor, integration: Integration, secret: str | None) -> None:
    """Store the secret, then the config naming it; a config that fails to save takes its secret with it."""
    if secret is not None:
        integration.secret_arn = integrations.store_secret(actor.scope, integration.integration_id, secret)
    try:
        with change(actor, "integration.create", integration) as c:
            c.create(integration, conflict="the integration already exists")
            c.publish("integration.created", {"integration_id": integration.integration_id}, source=SOURCE)
    except Exception:
        if integration.secret_arn:
            integrations.delete_secret(integration.secret_arn)
        raise


def save(actor: Actor, integration: Integration, *, before: dict[str, Any], secret: str | None) -> None:
    """Save a changed config; a new secret is written first and put back as it was if the save fails."""
    previous = None
    if secret is not None:
        if integration.secret_arn:
            previous = integrations.read_secret(integration.secret_arn)
        integration.secret_arn = integrations.store_secret(
            actor.scope, integration.integration_id, secret, integration.secret_arn
        )
    try:
        with change(actor, "integration.update", integration, before=before) as c:
            c.save(integration)
            c.publish("integration.updated", {"integration_id": integration.integration_id}, source=SOURCE)
    except Exception:
        if secret is not None and integration.secret_arn:
            if previous is None:
                integrations.delete_secret(integration.secret_arn)
            else:
                integrations.store_secret(actor.scope, integration.integration_id, previous, integration.secret_arn)
        raise


def delete(actor: Actor, integration: Integration) -> None:
    with change(actor, "integration.delete", integration, before=integration.snapshot()) as c:
        c.delete(integration)
        c.publish("integration.deleted", {"integration_id": integration.integration_id}, source=SOURCE)
    if integration.secret_arn:
        integrations.delete_secret(integration.secret_arn)


def allow_list(scope: Scope) -> OutboundAllowList:
    return OutboundAllowList.find(keys.outbound_allow_list(scope)) or OutboundAllowList.new(scope)


def save_allow_list(author: Author, tenant: Scope, item: OutboundAllowList, *, before: dict[str, Any]) -> None:
    """An operator's change of `tenant`'s allow-list: logged in the tenant's log, every container told."""
    with change(author, "integration.allow_list", item, before=before, log_scope=tenant) as c:
        c.save(item)
        config_cache.bump(c, integrations.KIND, tenant)
