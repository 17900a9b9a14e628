"""App switches: the only code of this function that touches DynamoDB (the tenant item's `disabled_apps`)."""

from __future__ import annotations

from typing import Any

from riveredge import keys
from riveredge.actor import Actor
from riveredge.db.changes import change
from riveredge.db.models import Tenant
from riveredge.scope import Scope

SOURCE = "apps"


def tenant(scope: Scope) -> Tenant:
    return Tenant.get_or_404(keys.tenant(scope.tenant_id), missing="no such organisation")


def switch(actor: Actor, tenant: Tenant, state: Any, *, before: dict[str, Any]) -> None:
    """Add the app to (or take it from) the tenant's switched-off set, with its log entry and event.

    Not version-checked: the set is changed by ADD / DELETE, so a concurrent change of another attribute of
    the tenant (or of another app) is neither lost nor refused.
    """
    code = {state.app.code}
    action = Tenant.disabled_apps.delete(code) if state.enabled else Tenant.disabled_apps.add(code)
    verb = "enabled" if state.enabled else "disabled"
    with change(actor, f"app.{'enable' if state.enabled else 'disable'}", state, before=before) as c:
        c.update(tenant, [action], condition=Tenant.pk.exists(), versioned=False, missing="no such organisation")
        c.publish(f"app.{verb}", {"app": state.app.code}, source=SOURCE)
