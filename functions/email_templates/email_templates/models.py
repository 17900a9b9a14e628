"""Request and response bodies of the email-template routes."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from riveredge.db.mail_templates import MAX_HTML_BYTES, MAX_SUBJECT_CHARS, MAX_TEXT_BYTES
from riveredge.emails import Email
from riveredge.mail_templates import Category, TemplateType, Variable, VariableType, text_in
from riveredge.mail_templates.global_variables import GlobalVariable, ValueType
from riveredge.schemas import RequestModel, ResponseModel, StoredObject

LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"

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


# -- templates ---------------------------------------------------------------------------------

TemplateCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="A system type's code (the template overrides its default) or a code of the organisation's own",
    ),
]
LanguageTag = Annotated[str, Field(pattern=LANGUAGE, max_length=35, description="BCP 47: `zh-CN`, `en-US`")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Subject = Annotated[
    str,
    Field(min_length=1, max_length=MAX_SUBJECT_CHARS, description="One line of text in the template syntax"),
]
HtmlBody = Annotated[
    str, Field(min_length=1, max_length=MAX_HTML_BYTES, description=f"At most {MAX_HTML_BYTES:,} bytes (UTF-8)")
]
TextBody = Annotated[str, Field(max_length=MAX_TEXT_BYTES, description=f"At most {MAX_TEXT_BYTES:,} bytes (UTF-8)")]
VariableKey = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,49}(\.[A-Za-z][A-Za-z0-9_]{0,49}){0,3}$",
        description="`{{key}}` in the template; dotted for a field of an object (`user.name`)",
    ),
]
Values = Annotated[
    dict[str, Any],
    Field(max_length=200, description="Variable values, over the examples of the template's variables"),
]


class VariableDeclaration(RequestModel):
    """A variable an own-code template is given (system types declare theirs in their metadata)."""

    key: VariableKey
    label: Label
    type: VariableType = "string"
    example: Any = None
    required: bool = False

    @field_validator("example")
    @classmethod
    def _small(cls, value: Any) -> Any:
        if len(json.dumps(value, default=str)) > 2000:
            raise ValueError("an example is at most 2,000 characters of JSON")
        return value


Variables = Annotated[list[VariableDeclaration], Field(max_length=50)]


class CreateEmailTemplateRequest(RequestModel):
    code: TemplateCode
    language: LanguageTag | None = Field(None, description="Default: the organisation's default language")
    name: Name | None = Field(None, description="Default for a system type: its name in the template's language")
    category: Category | None = Field(None, description="A system type's own; an own code's default: notification")
    description: Description | None = None
    subject: Subject
    html_body: HtmlBody
    text_body: TextBody = ""
    variables: Variables | None = Field(None, description="An own code's variables (a system type has its own)")
    is_active: bool = True


class UpdateEmailTemplateRequest(RequestModel):
    """The fields to change (one left out keeps its value); every save is a new version."""

    version: Version
    name: Name | None = None
    category: Category | None = None
    description: Description | None = None
    subject: Subject | None = None
    html_body: HtmlBody | None = None
    text_body: TextBody | None = None
    variables: Variables | None = None
    is_active: bool | None = None


class RollbackRequest(RequestModel):
    to_version: int = Field(ge=1, description="The version whose content becomes the next version")
    version: Version | None = None


class ResetRequest(RequestModel):
    version: Version | None = None


class PreviewRequest(RequestModel):
    """Variable values over the examples; subject / html_body / text_body preview an unsaved draft instead."""

    variables: Values = Field(default_factory=dict)
    subject: Subject | None = None
    html_body: HtmlBody | None = None
    text_body: TextBody | None = None


class DefaultPreviewRequest(PreviewRequest):
    language: LanguageTag | None = Field(None, description="Default: the caller's language, else the organisation's")


class TestSendRequest(RequestModel):
    to: Email | None = Field(None, description="Default: the caller's own address (another needs mail.send)")
    variables: Values = Field(default_factory=dict)


class DefaultTestSendRequest(TestSendRequest):
    language: LanguageTag | None = Field(None, description="Default: the caller's language, else the organisation's")


class TemplateSummaryResponse(StoredObject):
    code: str
    language: str
    name: str
    category: Category
    description: str | None
    is_active: bool
    is_system: bool = Field(description="Its code is a system type: it overrides the default, cannot be deleted")
    html_bytes: int
    text_bytes: int
    created_by: str | None
    updated_by: str | None


class TemplateResponse(TemplateSummaryResponse):
    variables: list[TemplateVariableResponse] = Field(description="Its type's variables, or the ones it declares")
    subject: str
    html_body: str
    text_body: str


class TemplateListResponse(ResponseModel):
    items: list[TemplateSummaryResponse]
    next_cursor: str | None = None


class VersionSummaryResponse(ResponseModel):
    template_id: str
    version: int
    action: Literal["create", "update", "rollback", "reset"]
    source_version: int | None = Field(description="A rollback's version copied")
    name: str
    is_active: bool
    created_at: str
    created_by: str | None


class VersionResponse(VersionSummaryResponse):
    category: Category
    description: str | None
    variables: list[TemplateVariableResponse]
    subject: str
    html_body: str
    text_body: str


class VersionListResponse(ResponseModel):
    items: list[VersionSummaryResponse]
    next_cursor: str | None = None


class PreviewResponse(ResponseModel):
    code: str
    language: str
    template_id: str | None = Field(description="None: the system default")
    version: int | None
    subject: str
    html: str
    text: str


class TestSendResponse(ResponseModel):
    delivery_id: str
    to: str
    template_id: str | None
    version: int | None
    subject: str
