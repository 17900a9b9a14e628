"""Data dictionaries: the lists every form picks from, read from a per-container cache.

A dictionary is a type (``gender``) with items (``male`` / ``Male`` / ``M``). The system ones in
:data:`SYSTEM` ship with every tenant, are maintained by the platform and cannot be changed or deleted;
a tenant adds its own through ``/api/dictionaries``. Other modules read them here::

    from riveredge import dictionaries

    found = dictionaries.items(scope, "gender")            # None: no such type
    dictionaries.label(scope, "gender", "female", "zh-CN")  # "女" (the label when no translation)
    dictionaries.has(scope, "gender", "female")             # a select field's check

Every read goes through :mod:`riveredge.config_cache` (kind ``dictionaries``): one Query of the tenant's
stamps per request, plus one Query of a type's items only after a change of any dictionary of the tenant.
The values handed out are immutable, so a caller cannot change what the next request is served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from riveredge import config_cache, keys
from riveredge.db.config import DictionaryItem, DictionaryType
from riveredge.scope import Scope

KIND = "dictionaries"
TYPES = "*types"  # the cache name of a tenant's list of types (no type code has a '*')


@dataclass(frozen=True)
class Entry:
    """One dictionary item as readers see it."""

    code: str
    label: str
    value: str
    order: int = 0
    enabled: bool = True
    translations: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    parent: str | None = None
    system: bool = False
    version: int = 0

    def label_in(self, language: str | None) -> str:
        """The label in `language` (or its base language: ``zh`` for ``zh-TW``), else the label."""
        if language:
            if language in self.translations:
                return self.translations[language]
            base = language.split("-")[0]
            for code, text in self.translations.items():
                if code.split("-")[0] == base:
                    return text
        return self.label


@dataclass(frozen=True)
class Kind:
    """One dictionary type as readers see it."""

    code: str
    name: str
    description: str | None = None
    enabled: bool = True
    system: bool = False
    version: int = 0


def _system(
    code: str, name: str, description: str, *entries: tuple[str, str, str, str]
) -> tuple[Kind, tuple[Entry, ...]]:
    kind = Kind(code, name, description, system=True)
    items = tuple(
        Entry(c, label, value, order, translations=MappingProxyType({"en-US": label, "zh-CN": zh}), system=True)
        for order, (c, label, value, zh) in enumerate(entries)
    )
    return kind, items


SYSTEM: dict[str, tuple[Kind, tuple[Entry, ...]]] = {
    kind.code: (kind, items)
    for kind, items in (
        _system(
            "user_status",
            "Account status",
            "Whether an account may sign in",
            ("active", "Active", "active", "正常"),
            ("disabled", "Disabled", "disabled", "停用"),
        ),
        _system(
            "gender",
            "Gender",
            "A person's gender",
            ("male", "Male", "M", "男"),
            ("female", "Female", "F", "女"),
            ("unknown", "Not stated", "U", "未知"),
        ),
        _system("yes_no", "Yes / no", "A yes-or-no answer", ("yes", "Yes", "Y", "是"), ("no", "No", "N", "否")),
        _system(
            "enabled_status",
            "Enabled / disabled",
            "Whether something is switched on",
            ("enabled", "Enabled", "1", "启用"),
            ("disabled", "Disabled", "0", "停用"),
        ),
        _system(
            "tenant_tier",
            "Organisation tier",
            "The plan an organisation is on",
            ("free", "Free", "free", "免费版"),
            ("standard", "Standard", "standard", "标准版"),
            ("enterprise", "Enterprise", "enterprise", "企业版"),
        ),
    )
}


def entry_of(item: DictionaryItem) -> Entry:
    return Entry(
        code=item.code,
        label=item.label,
        value=item.value,
        order=int(item.order or 0),
        enabled=bool(item.enabled),
        translations=MappingProxyType(dict(item.translations or {})),
        parent=item.parent,
        version=int(item.version or 0),
    )


def kind_of(item: DictionaryType) -> Kind:
    return Kind(item.code, item.name, item.description, bool(item.enabled), version=int(item.version or 0))


def _load_types(scope: Scope) -> tuple[Kind, ...]:
    own = (kind_of(t) for t in DictionaryType.query(keys.dictionary_types(scope)) if isinstance(t, DictionaryType))
    return (*(kind for kind, _ in SYSTEM.values()), *sorted(own, key=lambda k: k.code))


def _load_items(scope: Scope, type_code: str) -> tuple[Entry, ...]:
    found = DictionaryItem.query(keys.dictionary_items(scope, type_code))
    entries = (entry_of(i) for i in found if isinstance(i, DictionaryItem))
    return tuple(sorted(entries, key=lambda e: (e.order, e.code)))


def types(scope: Scope) -> tuple[Kind, ...]:
    """Every dictionary type of the tenant: the system ones first, then its own by code."""
    return config_cache.cached(scope, KIND, TYPES, lambda: _load_types(scope))


def kind(scope: Scope, type_code: str) -> Kind | None:
    return next((k for k in types(scope) if k.code == type_code), None)


def items(scope: Scope, type_code: str) -> tuple[Entry, ...] | None:
    """The items of `type_code` by order then code (None: the tenant has no such type)."""
    if type_code in SYSTEM:
        return SYSTEM[type_code][1]
    if kind(scope, type_code) is None:
        return None
    return config_cache.cached(scope, KIND, type_code, lambda: _load_items(scope, type_code))


def has(scope: Scope, type_code: str, code: str, *, enabled_only: bool = True) -> bool:
    """Whether `code` is an item of `type_code` (an enabled one, unless told otherwise)."""
    return any(e.code == code and (e.enabled or not enabled_only) for e in items(scope, type_code) or ())


def label(scope: Scope, type_code: str, code: str, language: str | None = None) -> str | None:
    """The label of an item in `language` (None: no such item)."""
    entry = next((e for e in items(scope, type_code) or () if e.code == code), None)
    return entry.label_in(language) if entry else None


def as_json(entry: Entry, language: str | None = None) -> dict[str, Any]:
    """An item as the API answers it."""
    return {
        "code": entry.code,
        "label": entry.label_in(language),
        "value": entry.value,
        "order": entry.order,
        "enabled": entry.enabled,
        "translations": dict(entry.translations),
        "parent": entry.parent,
        "system": entry.system,
        "version": entry.version,
    }
