"""Global mail variables: what every template may use besides its type's own variables.

Three kinds of value (the seed's ``value_type``):

- ``static``: a text the organisation sets (``support_email``, and variables of its own), stored as
  ``riveredge.db.config.MailGlobal`` items;
- ``config``: read from configuration when a mail is rendered (``app_name`` is the site settings' system
  name, ``company_name`` the organisation's name, ``site_url`` the deployment's front-end address);
- ``dynamic``: computed at render time (``current_year``, ``current_date`` in the organisation's time zone).

:func:`values` answers them all for one render; the stored ones come from the per-container cache (kind
``mail_globals``), so a warm render reads only the stamps and, for ``company_name``, the tenant item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal
from zoneinfo import ZoneInfo

from riveredge import config_cache, keys, site
from riveredge.clock import utcnow
from riveredge.db.config import MailGlobal
from riveredge.db.models import Tenant
from riveredge.scope import Scope
from riveredge.settings import get_settings

KIND = "mail_globals"
ValueType = Literal["static", "config", "dynamic"]


@dataclass(frozen=True)
class GlobalVariable:
    key: str
    labels: Mapping[str, str]
    value_type: ValueType
    description: str
    system: bool = True
    value: str = ""  # a static one's text
    version: int = 0
    example: Any = field(default=None, compare=False)

    @property
    def editable(self) -> bool:
        """Whether the organisation sets its value (a static one); computed ones are not set."""
        return self.value_type == "static"


def _labels(en: str, zh: str) -> Mapping[str, str]:
    return MappingProxyType({"en-US": en, "zh-CN": zh})


BUILT_IN: tuple[GlobalVariable, ...] = (
    GlobalVariable("app_name", _labels("Application name", "应用名称"), "config", "The site settings' system name"),
    GlobalVariable("site_url", _labels("Site address", "网站地址"), "config", "The front end's address"),
    GlobalVariable(
        "support_email", _labels("Support email", "支持邮箱"), "static", "Where people write for help (set it here)"
    ),
    GlobalVariable("company_name", _labels("Company name", "公司名称"), "config", "The organisation's name"),
    GlobalVariable("current_year", _labels("Current year", "当前年份"), "dynamic", "The year at render time"),
    GlobalVariable(
        "current_date",
        _labels("Current date", "当前日期"),
        "dynamic",
        "The date at render time, in the organisation's time zone (YYYY-MM-DD)",
    ),
)
BUILT_IN_KEYS = frozenset(v.key for v in BUILT_IN)


def _load(scope: Scope) -> dict[str, MailGlobal]:
    return {m.key: m for m in MailGlobal.query(keys.mail_globals(scope)) if isinstance(m, MailGlobal)}


def _stored(scope: Scope) -> dict[str, MailGlobal]:
    return config_cache.cached(scope, KIND, "stored", lambda: _load(scope))


def variable_of(own: MailGlobal) -> GlobalVariable:
    """A stored static variable: the value of a built-in one, or one of the organisation's own."""
    built_in = next((v for v in BUILT_IN if v.key == own.key), None)
    if built_in is not None:
        return GlobalVariable(
            own.key,
            built_in.labels,
            built_in.value_type,
            built_in.description,
            value=own.value,
            version=int(own.version or 0),
        )
    return GlobalVariable(
        own.key,
        MappingProxyType({"en-US": own.label}),
        "static",
        own.description or "",
        system=False,
        value=own.value,
        version=int(own.version or 0),
    )


def definitions(scope: Scope) -> tuple[GlobalVariable, ...]:
    """The built-in variables (a stored static value over the built-in empty one), then the organisation's."""
    stored = _stored(scope)
    found = [variable_of(stored[v.key]) if v.key in stored else v for v in BUILT_IN]
    found.extend(variable_of(stored[key]) for key in sorted(stored.keys() - BUILT_IN_KEYS))
    return tuple(found)


def _company(scope: Scope) -> str:
    if scope.is_platform:
        return "RiverEdge"
    tenant = Tenant.find(keys.tenant(scope.tenant_id), consistent=False)
    return tenant.name if tenant else ""


_COMPUTED: dict[str, Callable[[Scope, datetime], str]] = {
    "app_name": lambda scope, now: str(site.settings(scope)["system_name"]),
    "site_url": lambda scope, now: get_settings().app_base_url.rstrip("/"),
    "company_name": lambda scope, now: _company(scope),
    "current_year": lambda scope, now: str(now.astimezone(ZoneInfo(site.time_zone(scope))).year),
    "current_date": lambda scope, now: now.astimezone(ZoneInfo(site.time_zone(scope))).date().isoformat(),
}


def value_of(scope: Scope, variable: GlobalVariable, now: datetime | None = None) -> str:
    """One variable's value for a render at `now` (default: this moment)."""
    compute = _COMPUTED.get(variable.key)
    return (
        compute(scope, now or utcnow()) if compute is not None and variable.value_type != "static" else variable.value
    )


def values(scope: Scope, now: datetime | None = None) -> dict[str, str]:
    """Every global variable's value for one render (a template's own variables win over these)."""
    moment = now or utcnow()
    return {v.key: value_of(scope, v, moment) for v in definitions(scope)}
