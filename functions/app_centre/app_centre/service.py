"""App centre rules: core apps are always on, an app the tier does not offer cannot be switched on.

Switching an app is idempotent (switching on an app that is on changes nothing and logs nothing), takes
effect on the tenant's next request (the authorizer reads the tenant item on every request), and is
announced as ``app.enabled`` / ``app.disabled``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from riveredge import apps
from riveredge.actor import Actor
from riveredge.apps import App
from riveredge.db.models import Tenant
from riveredge.errors import ConflictError, NotFoundError

from app_centre import repository


@dataclass(frozen=True)
class AppState:
    """One app as a tenant has it: the operation log's subject of a switch."""

    app: App
    offered: bool
    enabled: bool

    noun: ClassVar[str] = "app"

    @property
    def object_id(self) -> str:
        return self.app.code

    def snapshot(self) -> dict[str, Any]:
        return {"code": self.app.code, "enabled": self.enabled}


def _state(app: App, tenant: Tenant) -> AppState:
    offered = apps.offered(app, tenant.tier)
    return AppState(app, offered, app.code not in apps.off_for(tenant.tier, tenant.disabled_apps))


def _app(code: str) -> App:
    app = apps.BY_CODE.get(code)
    if app is None:
        raise NotFoundError("no such app")
    return app


def list_apps(actor: Actor) -> list[AppState]:
    tenant = repository.tenant(actor.scope)
    return [_state(app, tenant) for app in apps.APPS]


def get_app(actor: Actor, code: str) -> AppState:
    return _state(_app(code), repository.tenant(actor.scope))


def switch(actor: Actor, code: str, *, on: bool) -> AppState:
    app = _app(code)
    tenant = repository.tenant(actor.scope)
    before = _state(app, tenant)
    if app.core and not on:
        raise ConflictError(f"'{app.name}' is a core app and cannot be switched off")
    if on and not before.offered:
        raise ConflictError(f"'{app.name}' is not offered on the {tenant.tier} tier")
    if before.enabled == on:
        return before
    after = AppState(app, before.offered, on)
    repository.switch(actor, tenant, after, before=before.snapshot())
    return after
