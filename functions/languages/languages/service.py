"""Language rules: the shipped languages are always there (renamed or switched off, never deleted); the
organisation's default language is never switched off or deleted; a bundle fits in one item."""

from __future__ import annotations

import json
from dataclasses import dataclass

from riveredge import site
from riveredge.actor import Actor
from riveredge.db.changes import expect_version
from riveredge.db.config import Language, TranslationBundle
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, ValidationError
from riveredge.i18n import SHIPPED_LANGUAGES, shipped
from riveredge.i18n.bundles import bundle, languages
from riveredge.scope import Scope

from languages import repository
from languages.models import (
    BundleResponse,
    CreateLanguageRequest,
    ImportTranslationsRequest,
    LanguageResponse,
    ReplaceTranslationsRequest,
    TranslationImportResponse,
    TranslationsResponse,
    UpdateLanguageRequest,
)

MAX_BUNDLE_BYTES = 350_000  # a DynamoDB item holds 400 KB
SHIPPED_NAMES = {"zh-CN": "简体中文", "en-US": "English"}


@dataclass
class Known:
    code: str
    item: Language | None  # None: a shipped language the organisation never changed

    @property
    def shipped(self) -> bool:
        return self.code in SHIPPED_LANGUAGES


def _response(scope: Scope, known: Known) -> LanguageResponse:
    item = known.item
    return LanguageResponse(
        code=known.code,
        name=item.name if item else SHIPPED_NAMES[known.code],
        enabled=bool(item.enabled) if item else True,
        shipped=known.shipped,
        default=site.default_language(scope) == known.code,
        version=int(item.version or 0) if item else 0,
    )


def _known(scope: Scope, code: str) -> Known:
    item = repository.find_language(scope, code)
    if item is None and code not in SHIPPED_LANGUAGES:
        raise NotFoundError(f"no language '{code}'")
    return Known(code, item)


def list_languages(actor: Actor) -> list[LanguageResponse]:
    own = {item.code: item for item in languages(actor.scope)}
    codes = [*SHIPPED_LANGUAGES, *sorted(c for c in own if c not in SHIPPED_LANGUAGES)]
    return [_response(actor.scope, Known(code, own.get(code))) for code in codes]


def get_language(actor: Actor, code: str) -> LanguageResponse:
    return _response(actor.scope, _known(actor.scope, code))


def create_language(actor: Actor, body: CreateLanguageRequest) -> LanguageResponse:
    if body.code in SHIPPED_LANGUAGES:
        raise ConflictError(f"language '{body.code}' already exists (it ships with the platform)")
    language = Language.new(actor.scope, body.code, name=body.name, enabled=body.enabled)
    repository.create_language(actor, language)
    return _response(actor.scope, Known(body.code, language))


def _not_default(scope: Scope, code: str, doing: str) -> None:
    if site.default_language(scope) == code:
        raise ConflictError(f"'{code}' is the organisation's default language: it cannot be {doing}")


def update_language(actor: Actor, code: str, body: UpdateLanguageRequest) -> LanguageResponse:
    known = _known(actor.scope, code)
    item = known.item or Language.new(actor.scope, code, name=SHIPPED_NAMES.get(code, code), enabled=True)
    expect_version(item, body.version)
    before = item.snapshot() if known.item else None
    was = item.snapshot()
    if body.name is not None:
        item.name = body.name
    if body.enabled is not None:
        if not body.enabled:
            _not_default(actor.scope, code, "switched off")
        item.enabled = body.enabled
    if item.snapshot() != was:
        repository.save_language(actor, item, before=before)
    return _response(actor.scope, Known(code, item))


def delete_language(actor: Actor, code: str, version: int | None) -> None:
    known = _known(actor.scope, code)
    if known.shipped or known.item is None:
        raise ConflictError(f"'{code}' ships with the platform: switch it off instead")
    _not_default(actor.scope, code, "deleted")
    expect_version(known.item, version)
    repository.delete_language(actor, known.item, repository.find_bundle(actor.scope, code))


def translations(actor: Actor, code: str) -> TranslationsResponse:
    _known(actor.scope, code)
    found = repository.find_bundle(actor.scope, code)
    return TranslationsResponse(
        language=code,
        translations=dict(found.translations or {}) if found else {},
        shipped_keys=len(shipped(code)),
        version=int(found.version or 0) if found else 0,
    )


def _fits(translations: dict[str, str]) -> None:
    size = len(json.dumps(translations, ensure_ascii=False).encode())
    if size > MAX_BUNDLE_BYTES:
        message = f"is {size:,} bytes; a bundle holds at most {MAX_BUNDLE_BYTES:,}"
        raise ValidationError(f"translations {message}", errors=[FieldProblem("translations", message)])


def _save(actor: Actor, code: str, new: dict[str, str], found: TranslationBundle | None, action: str) -> None:
    _fits(new)
    item = found or TranslationBundle.new(actor.scope, code)
    before = item.snapshot() if found else None
    item.translations = new or None
    repository.save_bundle(actor, item, before=before, action=action)


def replace_translations(actor: Actor, code: str, body: ReplaceTranslationsRequest) -> TranslationsResponse:
    _known(actor.scope, code)
    found = repository.find_bundle(actor.scope, code)
    expect_version(found or TranslationBundle.new(actor.scope, code), body.version)
    current = dict(found.translations or {}) if found else {}
    if current != body.translations:
        _save(actor, code, dict(body.translations), found, "language.translations.update")
    return translations(actor, code)


def import_translations(actor: Actor, code: str, body: ImportTranslationsRequest) -> TranslationImportResponse:
    """Merge the document's keys into the bundle (or make it the bundle): one write, all or nothing."""
    _known(actor.scope, code)
    found = repository.find_bundle(actor.scope, code)
    current = dict(found.translations or {}) if found else {}
    new = dict(body.translations) if body.mode == "replace" else {**current, **body.translations}
    added = sum(1 for k in new if k not in current)
    changed = sum(1 for k in new if k in current and current[k] != new[k])
    removed = sum(1 for k in current if k not in new)
    if new != current:
        _save(actor, code, new, found, "language.translations.import")
    return TranslationImportResponse(added=added, changed=changed, removed=removed, total=len(new))


def export_translations(actor: Actor, code: str) -> BundleResponse:
    """The language's whole bundle: the shipped keys with the organisation's over them."""
    _known(actor.scope, code)
    found = repository.find_bundle(actor.scope, code)
    merged = {**shipped(code), **(dict(found.translations or {}) if found else {})}
    return BundleResponse(language=code, requested=code, translations=dict(sorted(merged.items())))


def resolved(actor: Actor, code: str) -> BundleResponse:
    served, merged = bundle(actor.scope, code)
    return BundleResponse(language=served, requested=code, translations=dict(sorted(merged.items())))
