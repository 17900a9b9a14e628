"""Request and response bodies of the email-template routes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from riveredge.mail_templates import Category, TemplateType, Variable, VariableType, text_in
from riveredge.mail_templates.global_variables import GlobalVariable, ValueType
from riveredge.schemas import RequestModel, ResponseModel

GlobalKey = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="Lower-case letters, digits and '_' (at most 50), starting with a letter: `{{key}}` in templates",
    ),
]
Label = Annotated[str, Field(min_length=1, max_length=100)]
Value = Annotated[str, Field(max_length=2000)]
Description = Annotated[str, Field(max_length=255)]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]


class TemplateVariableResponse(ResponseModel):
    key: str
    label: str
    type: VariableType
    example: Any = None
    required: bool

    @classmethod
    def of(cls, variable: Variable, language: str | None) -> TemplateVariableResponse:
        return cls(
            key=variable.key,
            label=variable.label(language),
            type=variable.type,  # type: ignore[arg-type]  # checked when the type was loaded
            example=variable.example,
            required=variable.required,
        )


class TemplateDefaultResponse(ResponseModel):
    language: str
    subject: str
    html_body: str
    text_body: str


class TemplateTypeResponse(ResponseModel):
    code: str
    name: str
    category: Category
    description: str
    trigger_description: str
    variables: list[TemplateVariableResponse]
    is_system: bool
    sort_order: int
    languages: list[str] = Field(description="The languages its default body ships in")

    @classmethod
    def of(cls, kind: TemplateType, language: str | None) -> TemplateTypeResponse:
        return cls(
            code=kind.code,
            name=kind.name(language),
            category=kind.category,  # type: ignore[arg-type]  # checked when the type was loaded
            description=text_in(kind.descriptions, language),
            trigger_description=text_in(kind.triggers, language),
            variables=[TemplateVariableResponse.of(v, language) for v in kind.variables],
            is_system=kind.system,
            sort_order=kind.order,
            languages=sorted(kind.defaults),
        )


class TemplateTypeDetailResponse(TemplateTypeResponse):
    default: TemplateDefaultResponse | None = Field(description="The shipped body in the asked-for language")


class TemplateTypeListResponse(ResponseModel):
    items: list[TemplateTypeResponse]


class GlobalVariableResponse(ResponseModel):
    key: str
    label: str
    value_type: ValueType
    value: str = Field(description="Its value now (a config or dynamic one: as a render would compute it)")
    description: str
    is_system: bool
    editable: bool = Field(description="Static ones are set by the organisation; config and dynamic ones are computed")
    version: int

    @classmethod
    def of(cls, variable: GlobalVariable, value: str, language: str | None) -> GlobalVariableResponse:
        return cls(
            key=variable.key,
            label=text_in(variable.labels, language),
            value_type=variable.value_type,
            value=value,
            description=variable.description,
            is_system=variable.system,
            editable=variable.editable,
            version=variable.version,
        )


class GlobalVariableListResponse(ResponseModel):
    items: list[GlobalVariableResponse]


class CreateGlobalVariableRequest(RequestModel):
    key: GlobalKey
    label: Label
    value: Value
    description: Description | None = None


class UpdateGlobalVariableRequest(RequestModel):
    """The fields to change; one left out keeps its value (a built-in's label is not changed)."""

    version: Version
    value: Value | None = None
    label: Label | None = None
    description: Description | None = None
