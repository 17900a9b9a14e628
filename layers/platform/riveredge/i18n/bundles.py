"""A tenant's languages and translation bundles, with the fallback of :mod:`riveredge.i18n`."""

from __future__ import annotations

from types import MappingProxyType

from riveredge import config_cache, keys
from riveredge.db.config import Language, TranslationBundle
from riveredge.i18n import SHIPPED_LANGUAGES, SYSTEM_LANGUAGE, shipped
from riveredge.scope import Scope
from riveredge.site import default_language

KIND = "languages"


# -- a tenant's bundles ------------------------------------------------------------------------
def _load_languages(scope: Scope) -> tuple[Language, ...]:
    return tuple(item for item in Language.query(keys.languages(scope)) if isinstance(item, Language))


def languages(scope: Scope) -> tuple[Language, ...]:
    """The tenant's own languages (the shipped ones are always there besides)."""
    return config_cache.cached(scope, KIND, "*", lambda: _load_languages(scope))


def enabled(scope: Scope, language: str) -> bool:
    own = next((lang for lang in languages(scope) if lang.code == language), None)
    return bool(own.enabled) if own is not None else language in SHIPPED_LANGUAGES


def _load_own(scope: Scope, language: str) -> MappingProxyType[str, str]:
    found = TranslationBundle.find(keys.translation_bundle(scope, language), consistent=False)
    return MappingProxyType(dict(found.translations or {}) if found else {})


def own(scope: Scope, language: str) -> MappingProxyType[str, str]:
    """The keys the tenant set for `language` (overriding or adding to the shipped ones)."""
    return config_cache.cached(scope, KIND, f"bundle:{language}", lambda: _load_own(scope, language))


def _layer(scope: Scope, language: str) -> dict[str, str]:
    return {**shipped(language), **own(scope, language)}


def bundle(scope: Scope, language: str) -> tuple[str, dict[str, str]]:
    """The bundle for `language` with fallback (see the module); answers the language served, which is the
    tenant's default (or the system's) when `language` is neither shipped nor one of the tenant's enabled."""
    fallback = default_language(scope)
    served = language if enabled(scope, language) else fallback if enabled(scope, fallback) else SYSTEM_LANGUAGE
    merged = _layer(scope, SYSTEM_LANGUAGE)
    for level in dict.fromkeys((fallback, served)):
        if level != SYSTEM_LANGUAGE and enabled(scope, level):
            merged.update(_layer(scope, level))
    return served, merged


def text(scope: Scope, language: str, key: str, default: str | None = None) -> str | None:
    return bundle(scope, language)[1].get(key, default)
