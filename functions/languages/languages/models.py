"""Request and response bodies of the language routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from riveredge.schemas import RequestModel, ResponseModel

LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
LanguageCode = Annotated[str, Field(pattern=LANGUAGE_PATTERN, max_length=35, description="A BCP 47 tag: `fr-FR`")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$")]
Text = Annotated[str, Field(max_length=5000)]
MAX_KEYS = 5000
Translations = Annotated[
    dict[Key, Text], Field(max_length=MAX_KEYS, description=f"key -> text (at most {MAX_KEYS} keys)")
]


class CreateLanguageRequest(RequestModel):
    code: LanguageCode
    name: Name
    enabled: bool = True


class UpdateLanguageRequest(RequestModel):
    version: Version
    name: Name | None = None
    enabled: bool | None = None


class LanguageResponse(ResponseModel):
    code: str
    name: str
    enabled: bool
    shipped: bool  # ships with the platform (with its own bundle); cannot be deleted
    default: bool  # the organisation's default language (site settings)
    version: int


class LanguageListResponse(ResponseModel):
    items: list[LanguageResponse]


class TranslationsResponse(ResponseModel):
    language: str
    translations: dict[str, str] = Field(description="The organisation's own keys (over the shipped bundle)")
    shipped_keys: int
    version: int


class ReplaceTranslationsRequest(RequestModel):
    version: Version
    translations: Translations


class ImportTranslationsRequest(RequestModel):
    translations: Translations
    mode: Literal["merge", "replace"] = Field(
        default="merge", description="merge: add and change keys; replace: the document becomes the bundle"
    )


class TranslationImportResponse(ResponseModel):
    added: int
    changed: int
    removed: int
    total: int


class BundleResponse(ResponseModel):
    language: str = Field(description="The language served (the default one when the one asked for is not on)")
    requested: str
    translations: dict[str, str]
