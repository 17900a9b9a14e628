"""A tenant's site settings as the other modules read them: time zone, default language, branding.

The settings are one document per tenant (``<scope>SITE`` / ``SETTINGS``), changed through the site
function's routes (each change bumps the ``site`` stamp of :mod:`riveredge.config_cache`), and read here
from the per-container cache: a code rule's date tokens, a template's dates and the i18n fallback cost
no read of their own once the request has checked its stamps.

A tenant that never saved its settings has :data:`DEFAULTS`.
"""

from __future__ import annotations

from typing import Any

from riveredge import config_cache, keys
from riveredge.db.models import SiteSettings
from riveredge.i18n import SYSTEM_LANGUAGE
from riveredge.scope import Scope

KIND = "site"

DEFAULTS: dict[str, Any] = {
    "system_name": "RiverEdge",
    "logo_key": None,
    "favicon_key": None,
    "primary_color": "#1677ff",
    "login_title": None,
    "login_subtitle": None,
    "login_footer": None,
    "default_language": SYSTEM_LANGUAGE,
    "time_zone": "UTC",
    # Sign-in obeys these through the tenant item's copy (decision 0010), never through this document:
    "password_policy": None,  # None: riveredge.passwords.DEFAULT_POLICY
    "session_seconds": None,  # None: the deployment's refresh_token_ttl_seconds
}


def _load(scope: Scope) -> dict[str, Any]:
    stored = SiteSettings.find(keys.site_settings(scope))
    return {**DEFAULTS, **((stored.settings or {}) if stored else {})}


def settings(scope: Scope) -> dict[str, Any]:
    """The scope's site settings, defaults filled in (a copy: change it freely)."""
    return dict(config_cache.cached(scope, KIND, "settings", lambda: _load(scope)))


def time_zone(scope: Scope) -> str:
    """The IANA time zone the tenant's dates are shown and counted in (``UTC`` unless set)."""
    return str(settings(scope)["time_zone"] or "UTC")


def default_language(scope: Scope) -> str:
    """The tenant's default language (a BCP 47 tag such as ``zh-CN``)."""
    return str(settings(scope)["default_language"] or SYSTEM_LANGUAGE)
