"""Language routes, and the resolved bundle a front end loads."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from riveredge.http import (
    AUTHENTICATED,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    with_if_match,
)

from languages import service
from languages.models import (
    BundleResponse,
    CreateLanguageRequest,
    ImportTranslationsRequest,
    LanguageListResponse,
    LanguageResponse,
    ReplaceTranslationsRequest,
    TranslationImportResponse,
    TranslationsResponse,
    UpdateLanguageRequest,
)

router = ApiRouter("languages")
i18n_router = ApiRouter("i18n")
CODE = "<code>"


@router.get(
    "/api/languages",
    permission="language.view",
    permission_name="View languages and translations",
    summary="Every language: the shipped ones (zh-CN, en-US), then the organisation's own",
)
def list_languages() -> LanguageListResponse:
    return LanguageListResponse(items=service.list_languages(actor_of(router)))


@router.post(
    "/api/languages",
    permission="language.create",
    permission_name="Add languages",
    status_code=201,
    summary="Add a language (its code is a BCP 47 tag and never changes)",
    responses=created_as(LanguageResponse),
)
def create_language(body: CreateLanguageRequest) -> Response[dict[str, Any]]:
    language = service.create_language(actor_of(router), body)
    return created(language, f"/api/languages/{language.code}")


@router.get(f"/api/languages/{CODE}", permission="language.view", summary="One language")
def get_language(code: str) -> LanguageResponse:
    return service.get_language(actor_of(router), code)


@router.put(
    f"/api/languages/{CODE}",
    permission="language.edit",
    permission_name="Edit languages and their translations",
    summary="Rename a language or switch it on or off (not the default language)",
)
def update_language(code: str, body: UpdateLanguageRequest) -> LanguageResponse:
    return service.update_language(actor_of(router), code, with_if_match(router, body))


@router.delete(
    f"/api/languages/{CODE}",
    permission="language.delete",
    permission_name="Delete languages",
    status_code=204,
    summary="Delete a language of the organisation's own and its translations (not a shipped or the default one)",
)
def delete_language(code: str, version: VersionQuery = None) -> Response[str]:
    service.delete_language(actor_of(router), code, expected_version(router, version))
    return no_content()


@router.get(
    f"/api/languages/{CODE}/translations",
    permission="language.view",
    summary="The organisation's own keys of a language (over the shipped bundle)",
)
def get_translations(code: str) -> TranslationsResponse:
    return service.translations(actor_of(router), code)


@router.put(
    f"/api/languages/{CODE}/translations",
    permission="language.edit",
    summary="Replace the organisation's own keys of a language (an object of strings)",
)
def replace_translations(code: str, body: ReplaceTranslationsRequest) -> TranslationsResponse:
    return service.replace_translations(actor_of(router), code, with_if_match(router, body))


@router.post(
    f"/api/languages/{CODE}/translations/import",
    permission="language.edit",
    summary="Import a JSON bundle (key -> text): merged into the organisation's keys, or replacing them",
)
def import_translations(code: str, body: ImportTranslationsRequest) -> TranslationImportResponse:
    return service.import_translations(actor_of(router), code, body)


@router.get(
    f"/api/languages/{CODE}/translations/export",
    permission="language.view",
    summary="The language's whole bundle as JSON: the shipped keys with the organisation's over them",
)
def export_translations(code: str) -> BundleResponse:
    return service.export_translations(actor_of(router), code)


@i18n_router.get(
    "/api/i18n/<lang>",
    permission=AUTHENTICATED,
    summary="The bundle a front end loads: the language's keys, falling back to the organisation's default "
    "language, then to en-US (served from the per-container cache)",
    responses={200: {"description": "The bundle", "content": {"application/json": {"model": BundleResponse}}}},
)
def get_bundle(lang: str) -> Response[str]:
    found = service.resolved(actor_of(i18n_router), lang)
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(found.model_dump(), ensure_ascii=False),
        headers={"Content-Language": found.language, "Cache-Control": "private, max-age=300"},
    )
