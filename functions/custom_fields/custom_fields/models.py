"""Request and response bodies of the custom-field routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, JsonValue
from riveredge.clock import iso
from riveredge.custom_fields import Definition, FieldType
from riveredge.schemas import RequestModel, ResponseModel

ENTITY_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
FIELD_ID_PATTERN = r"^[a-z][a-z0-9_]{0,31}\.[a-z][a-z0-9_]{0,39}$"
Entity = Annotated[str, Field(pattern=ENTITY_PATTERN, description="The entity type: `user`, `department`")]
FieldKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Lower-case letters, digits and '_' (at most 40), starting with a letter; never changes",
    ),
]
Label = Annotated[str, Field(min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=500)]
Order = Annotated[int, Field(ge=0, le=1_000_000)]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
DictionaryCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
Count = Annotated[int, Field(ge=0, le=10_000)]
Bound = Annotated[float, Field(ge=-1e15, le=1e15)]
Allowed = Annotated[str, Field(max_length=200)] | Bound


class CustomFieldValidation(RequestModel):
    """Rules a value must keep; each applies to some types only (the others refuse it)."""

    min_length: Count | None = Field(default=None, description="text, long_text")
    max_length: Annotated[int, Field(ge=1, le=10_000)] | None = Field(default=None, description="text, long_text")
    pattern: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="text: a regular expression the whole value must match"
    )
    minimum: Bound | None = Field(default=None, description="number, decimal")
    maximum: Bound | None = Field(default=None, description="number, decimal")
    scale: Annotated[int, Field(ge=0, le=10)] | None = Field(default=None, description="decimal: decimal places")
    allowed: Annotated[list[Allowed], Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="text, number, decimal: the only values allowed"
    )
    min_items: Annotated[int, Field(ge=0, le=100)] | None = Field(default=None, description="multi_select")
    max_items: Annotated[int, Field(ge=1, le=100)] | None = Field(default=None, description="multi_select")

    def rules(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class CreateCustomFieldRequest(RequestModel):
    entity: Entity
    key: FieldKey
    label: Label
    type: FieldType = Field(description="Never changes once created")
    required: bool = False
    default: JsonValue = Field(default=None, description="The value a new entity gets when it names none")
    validation: CustomFieldValidation | None = None
    dictionary: DictionaryCode | None = Field(default=None, description="select, multi_select: the options' dictionary")
    order: Order = 0
    enabled: bool = True
    description: Description | None = None


class UpdateCustomFieldRequest(RequestModel):
    """The settings to change; one left out keeps its value (`default` or `validation` null removes it)."""

    version: Version
    label: Label | None = None
    required: bool | None = None
    default: JsonValue = None
    validation: CustomFieldValidation | None = None
    dictionary: DictionaryCode | None = None
    order: Order | None = None
    enabled: bool | None = None
    description: Description | None = None


class CustomFieldResponse(ResponseModel):
    id: str = Field(description="`<entity>.<key>`")
    entity: str
    key: str
    label: str
    type: str
    required: bool
    default: JsonValue = None
    validation: dict[str, Any]
    dictionary: str | None = None
    order: int
    enabled: bool
    description: str | None = None
    version: int
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def of(cls, definition: Definition) -> CustomFieldResponse:
        return cls(
            id=definition.field_id,
            entity=definition.entity,
            key=definition.key,
            label=definition.label,
            type=definition.type,
            required=definition.required,
            default=definition.default if definition.has_default else None,
            validation=dict(definition.validation),
            dictionary=definition.dictionary,
            order=definition.order,
            enabled=definition.enabled,
            description=definition.description,
            version=definition.version,
            created_at=iso(definition.created_at) if definition.created_at else None,
            updated_at=iso(definition.updated_at) if definition.updated_at else None,
        )


class CustomFieldEntity(ResponseModel):
    code: str
    name: str


class CustomFieldListResponse(ResponseModel):
    items: list[CustomFieldResponse]
    entities: list[CustomFieldEntity] = Field(description="The entity types that take custom fields")


class CustomFieldSchemaResponse(ResponseModel):
    entity: str
    json_schema: dict[str, Any] = Field(description="JSON Schema (draft 2020-12) of the entity's `custom_fields`")
    formily: dict[str, Any] = Field(description="Formily schema for @formily/antd-v5 forms")
