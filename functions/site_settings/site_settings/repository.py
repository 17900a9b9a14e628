"""Site-settings persistence: the only code of this function that touches DynamoDB and S3."""

from __future__ import annotations

from typing import Any

from riveredge import config_cache, keys, site
from riveredge.actor import Actor
from riveredge.db.changes import change
from riveredge.db.identity import tenant_id_for_code
from riveredge.db.models import SiteSettings, Tenant
from riveredge.scope import Scope


def find(scope: Scope) -> SiteSettings | None:
    return SiteSettings.find(keys.site_settings(scope))


def tenant(scope: Scope) -> Tenant | None:
    return Tenant.find(keys.tenant(scope.tenant_id), consistent=False)


def tenant_id(code: str) -> str | None:
    return tenant_id_for_code(code)


def save(
    actor: Actor,
    settings: SiteSettings,
    tenant: Tenant,
    *,
    before: dict[str, Any] | None,
    password_policy: dict[str, Any],
    session_seconds: int | None,
) -> None:
    """The settings document, `tenant`'s copy of what sign-in obeys, the `site` stamp and the log entry: one
    transaction (a first save creates the document, on the condition that none exists yet)."""
    with change(actor, "site.update", settings, before=before) as c:
        if before is None:
            c.create(settings, conflict="the site settings were saved meanwhile; read them again")
        else:
            c.save(settings, stale="the site settings have changed since they were read; read them again")
        session = Tenant.session_seconds.set(session_seconds) if session_seconds else Tenant.session_seconds.remove()
        c.update(
            tenant,
            [Tenant.password_policy.set(password_policy), session],
            condition=Tenant.pk.exists(),
            versioned=False,  # two attributes of their own: a concurrent change of the tenant is not refused
            missing="no such organisation",
        )
        config_cache.bump(c, site.KIND)


# -- images (S3) -----------------------------------------------------------------------
