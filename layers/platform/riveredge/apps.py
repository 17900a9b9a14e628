"""The platform's apps (modules) and which of them a tenant has switched off.

An app is a product module as a tenant's admin sees it in the app centre: a name, an icon, the front-end
route its pages live under, the permissions its pages need, and the API paths it serves. A tenant enables
or disables apps (``Tenant.disabled_apps``); its tier may not offer some at all (:attr:`App.tiers`). Core
apps (sign-in, accounts, roles, settings, the app centre itself) cannot be switched off.

The check costs no DynamoDB call: the authorizer reads the tenant item anyway, puts the apps that are off
into the principal (:func:`off_for`), and the router refuses a route of an app that is off with a 403
naming the app (:func:`app_of_path`). ``/api/menus/mine`` drops the menus under an off app's route.

A later module adds its app here: one :class:`App` line with its API path prefixes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from riveredge import keys
from riveredge.db.models import Tenant

if TYPE_CHECKING:
    from riveredge.auth.principal import Principal
    from riveredge.scope import Scope

ALL_TIERS = frozenset({"free", "standard", "enterprise"})
PAID_TIERS = frozenset({"standard", "enterprise"})


@dataclass(frozen=True)
class App:
    code: str
    name: str
    icon: str
    route: str  # the front-end route its pages live under (menus under it belong to the app)
    description: str
    permissions: tuple[str, ...]  # what its pages need (any one of them shows the app's entry)
    paths: tuple[str, ...]  # the API path prefixes it serves
    core: bool = False  # cannot be switched off
    tiers: frozenset[str] = ALL_TIERS  # the tiers that offer it


APPS: tuple[App, ...] = (
    App(
        "accounts",
        "Accounts",
        "user",
        "/system/users",
        "People of the organisation, invitations, imports and exports",
        ("user.view",),
        ("/api/users", "/api/invitations", "/api/jobs"),
        core=True,
    ),
    App(
        "access",
        "Roles and menus",
        "safety",
        "/system/access",
        "Roles, permissions, data scopes and the menu tree",
        ("role.view", "menu.view"),
        ("/api/roles", "/api/permissions", "/api/menus"),
        core=True,
    ),
    App(
        "organisation",
        "Organisation",
        "apartment",
        "/system/organisation",
        "The department tree and positions",
        ("department.view", "position.view"),
        ("/api/departments", "/api/positions"),
    ),
    App(
        "monitoring",
        "Sessions and logs",
        "monitor",
        "/system/monitoring",
        "Online users, sessions and sign-in logs",
        ("session.view",),
        ("/api/online-users", "/api/sessions", "/api/login-logs"),
    ),
    App(
        "dictionaries",
        "Data dictionaries",
        "book",
        "/config/dictionaries",
        "Dictionary types and their items for every form",
        ("dictionary.view",),
        ("/api/dictionaries",),
    ),
    App(
        "parameters",
        "System parameters",
        "setting",
        "/config/parameters",
        "Typed settings of the organisation",
        ("parameter.view",),
        ("/api/parameters",),
    ),
    App(
        "code_rules",
        "Code rules",
        "number",
        "/config/code-rules",
        "Numbering patterns for documents",
        ("code_rule.view",),
        ("/api/code-rules",),
    ),
    App(
        "custom_fields",
        "Custom fields",
        "form",
        "/config/custom-fields",
        "Extra fields on accounts, departments and later entities",
        ("custom_field.view",),
        ("/api/custom-fields",),
        tiers=PAID_TIERS,
    ),
    App(
        "site",
        "Site settings",
        "global",
        "/config/site",
        "Branding, login page, time zone, password policy and session length",
        ("site.view",),
        ("/api/site-settings",),
        core=True,
    ),
    App(
        "languages",
        "Languages",
        "translation",
        "/config/languages",
        "Languages and translation bundles",
        ("language.view",),
        ("/api/languages",),
    ),
    App(
        "integrations",
        "Integrations",
        "api",
        "/config/integrations",
        "OAuth 2, API and webhook connections",
        ("integration.view",),
        ("/api/integrations",),
        tiers=PAID_TIERS,
    ),
    App(
        "interfaces",
        "API registry",
        "api",
        "/data/interfaces",
        "Describe the HTTP interfaces the organisation calls, test them, export them as OpenAPI",
        ("api.view",),
        ("/api/interfaces",),
        tiers=PAID_TIERS,
    ),
    App(
        "messages",
        "Messages",
        "message",
        "/system/messages",
        "Message channels (email, SMS, in-app, webhook), message templates and pushes to people",
        ("message.view",),
        ("/api/message-configs", "/api/message-templates", "/api/messages"),
    ),
    App(
        "files",
        "Files",
        "folder",
        "/data/files",
        "The organisation's files and folders: uploads, downloads, the recycle bin and storage usage",
        ("file.view",),
        ("/api/files", "/api/folders"),
    ),
    App(
        "datasources",
        "Data sources",
        "database",
        "/data/sources",
        "The databases (PostgreSQL, MySQL / MariaDB) and HTTP APIs the organisation's datasets read",
        ("datasource.view",),
        ("/api/datasources",),
        tiers=PAID_TIERS,
    ),
    App(
        "datasets",
        "Datasets",
        "table",
        "/data/datasets",
        "Queries on the data sources with typed parameters: previews, cached results and xlsx / CSV exports",
        ("dataset.view",),
        ("/api/datasets",),
        tiers=PAID_TIERS,
    ),
    App(
        "apps",
        "App centre",
        "appstore",
        "/config/apps",
        "Switch the organisation's apps on and off",
        ("app.view",),
        ("/api/apps",),
        core=True,
    ),
)

BY_CODE = {app.code: app for app in APPS}
_BY_PATH = sorted(((prefix, app) for app in APPS for prefix in app.paths), key=lambda pair: -len(pair[0]))


def app_of_path(path: str) -> App | None:
    """The app that serves an API path (a route's resource, e.g. ``/api/dictionaries/{type}``), if any."""
    for prefix, app in _BY_PATH:
        if path == prefix or path.startswith(prefix + "/"):
            return app
    return None


def offered(app: App, tier: str | None) -> bool:
    return app.core or (tier or "standard") in app.tiers


def off_for(tier: str | None, disabled: Iterable[str] | None) -> frozenset[str]:
    """The codes of the apps that are off for a tenant of `tier` that disabled `disabled` (core apps never)."""
    switched_off = set(disabled or ())
    return frozenset(app.code for app in APPS if not app.core and (app.code in switched_off or not offered(app, tier)))


def of_route(route: str | None) -> App | None:
    """The app whose front-end route a menu's route lies under."""
    if not route:
        return None
    for app in APPS:
        if route == app.route or route.startswith(app.route + "/"):
            return app
    return None


def enabled(principal: Principal, code: str) -> bool:
    """Whether the caller's tenant has the app `code` on (free: the authorizer resolved it)."""
    return code not in principal.apps_off


def enabled_for(scope: Scope, code: str) -> bool:
    """Whether `scope`'s tenant has the app `code` on, for work off the request path (one GetItem).

    A consumer of an app that is off (a scheduled job, a rule action) skips its work with this.
    """
    if scope.is_platform:
        return True
    tenant = Tenant.find(keys.tenant(scope.tenant_id))
    return tenant is not None and code not in off_for(tenant.tier, tenant.disabled_apps)
