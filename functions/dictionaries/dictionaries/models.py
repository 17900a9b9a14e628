"""Request and response bodies of the dictionary and parameter routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, JsonValue
from riveredge.dictionaries import Entry, Kind
from riveredge.parameters import MASK, ParameterType
from riveredge.schemas import RequestModel, ResponseModel

Code = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_.-]{0,63}$",
        description="Lower-case letters, digits, '_', '.', '-' (at most 64), starting with a letter; never changes",
    ),
]
ItemCode = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Unique in its type; never changes")
]
ParameterKey = Annotated[
    str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,127}$", description="Lower-case, dotted: `upload.max_mb`")
]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Label = Annotated[str, Field(min_length=1, max_length=200)]
Description = Annotated[str, Field(max_length=500)]
Order = Annotated[int, Field(ge=0, le=1_000_000)]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="A BCP 47 tag: zh-CN")]
Translations = Annotated[
    dict[Language, Label], Field(max_length=50, description="Label per language code (`zh-CN` -> `男`)")
]


# -- dictionaries -----------------------------------------------------------------------
class CreateDictionaryRequest(RequestModel):
    code: Code
    name: Name
    description: Description | None = None
    enabled: bool = True


class UpdateDictionaryRequest(RequestModel):
    """The fields to change; a field left out keeps its value."""

    version: Version
    name: Name | None = None
    description: Description | None = None
    enabled: bool | None = None


class DictionaryResponse(ResponseModel):
    code: str
    name: str
    description: str | None = None
    enabled: bool
    system: bool  # shipped with every organisation; cannot be changed or deleted
    version: int

    @classmethod
    def of(cls, kind: Kind) -> DictionaryResponse:
        return cls(
            code=kind.code,
            name=kind.name,
            description=kind.description,
            enabled=kind.enabled,
            system=kind.system,
            version=kind.version,
        )


class DictionaryListResponse(ResponseModel):
    items: list[DictionaryResponse]


class CreateItemRequest(RequestModel):
    code: ItemCode
    label: Label
    value: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="Stored on the entities that pick it; the code if left out"
    )
    order: Order = 0
    enabled: bool = True
    translations: Translations = Field(default_factory=dict)
    parent: ItemCode | None = Field(default=None, description="An item of the same type this one lies under")


class UpdateItemRequest(RequestModel):
    """The fields to change; a field left out keeps its value (parent null makes it a top-level item)."""

    version: Version
    label: Label | None = None
    value: Annotated[str, Field(max_length=500)] | None = None
    order: Order | None = None
    enabled: bool | None = None
    translations: Translations | None = None
    parent: ItemCode | None = None


class ItemResponse(ResponseModel):
    code: str
    label: str  # in the language asked for, when the item has a translation for it
    value: str
    order: int
    enabled: bool
    translations: dict[str, str]
    parent: str | None = None
    system: bool
    version: int

    @classmethod
    def of(cls, entry: Entry, language: str | None = None) -> ItemResponse:
        return cls(
            code=entry.code,
            label=entry.label_in(language),
            value=entry.value,
            order=entry.order,
            enabled=entry.enabled,
            translations=dict(entry.translations),
            parent=entry.parent,
            system=entry.system,
            version=entry.version,
        )


class ItemListResponse(ResponseModel):
    type: str
    language: str | None = None
    items: list[ItemResponse]


# -- parameters -------------------------------------------------------------------------
class CreateParameterRequest(RequestModel):
    key: ParameterKey
    type: ParameterType
    value: JsonValue = Field(description="A value of `type` (checked against `json_schema` for json)")
    description: Description | None = None
    editable: bool = Field(default=True, description="False: the value is fixed once created")
    secret: bool = Field(default=False, description="True: the value is masked on every read")
    json_schema: dict[str, JsonValue] | None = Field(
        default=None, description="A JSON Schema (draft 2020-12) a json value must satisfy"
    )


class UpdateParameterRequest(RequestModel):
    """The fields to change; a field left out keeps its value."""

    version: Version
    value: JsonValue = None
    description: Description | None = None
    json_schema: dict[str, JsonValue] | None = None


class BatchUpdateRequest(RequestModel):
    values: dict[ParameterKey, JsonValue] = Field(
        min_length=1, max_length=90, description="key -> new value; all are saved or none"
    )


class ParameterResponse(ResponseModel):
    key: str
    type: str
    value: Any = Field(description=f"`{MASK}` for a secret parameter")
    description: str | None = None
    editable: bool
    secret: bool
    json_schema: dict[str, Any] | None = None
    version: int


class ParameterListResponse(ResponseModel):
    items: list[ParameterResponse]


class ParameterExport(RequestModel):
    """One parameter of an export or an import (a secret one's value is left out of an export)."""

    key: ParameterKey
    type: ParameterType
    value: JsonValue = None
    description: Description | None = None
    editable: bool = True
    secret: bool = False
    json_schema: dict[str, JsonValue] | None = None


class ParameterDocument(RequestModel):
    """What `GET /api/parameters/export` answers and `POST /api/parameters/import` takes."""

    format: Annotated[str, Field(pattern=r"^riveredge\.parameters/1$")] = "riveredge.parameters/1"
    parameters: list[ParameterExport] = Field(max_length=90)


class ParameterImportResponse(ResponseModel):
    created: int
    updated: int
    unchanged: int
