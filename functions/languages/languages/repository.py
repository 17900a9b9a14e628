"""Language persistence: the only code of this function that touches DynamoDB."""

from __future__ import annotations

from typing import Any

from riveredge import config_cache, keys
from riveredge.actor import Actor
from riveredge.db.changes import change
from riveredge.db.config import Language, TranslationBundle
from riveredge.i18n.bundles import KIND
from riveredge.scope import Scope

SOURCE = "config"


def find_language(scope: Scope, code: str) -> Language | None:
    return Language.find(keys.language(scope, code))


def find_bundle(scope: Scope, code: str) -> TranslationBundle | None:
    return TranslationBundle.find(keys.translation_bundle(scope, code))


def create_language(actor: Actor, language: Language) -> None:
    with change(actor, "language.create", language) as c:
        c.create(language, conflict=f"language '{language.code}' already exists")
        config_cache.bump(c, KIND)
        c.publish("language.created", {"language": language.code}, source=SOURCE)


def save_language(actor: Actor, language: Language, *, before: dict[str, Any] | None) -> None:
    """Save a language (a shipped one's first save creates its item: it must not exist yet)."""
    action = "language.update"
    with change(actor, action, language, before=before) as c:
        if before is None:
            c.create(language, conflict=f"language '{language.code}' was changed meanwhile; read it again")
        else:
            c.save(language)
        config_cache.bump(c, KIND)


def delete_language(actor: Actor, language: Language, bundle: TranslationBundle | None) -> None:
    with change(actor, "language.delete", language, before=language.snapshot()) as c:
        c.delete(language)
        if bundle is not None:
            c.delete(bundle, stale="the language's translations changed meanwhile; try again")
        config_cache.bump(c, KIND)
        c.publish("language.deleted", {"language": language.code}, source=SOURCE)


def save_bundle(actor: Actor, bundle: TranslationBundle, *, before: dict[str, Any] | None, action: str) -> None:
    with change(actor, action, bundle, before=before) as c:
        if before is None:
            c.create(bundle, conflict="the translations were saved meanwhile; read them again")
        else:
            c.save(bundle)
        config_cache.bump(c, KIND)
