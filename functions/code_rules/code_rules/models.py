"""Request and response bodies of the code rule routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from riveredge import codes
from riveredge.codes import IssuedCode
from riveredge.db.codes import CodeRule
from riveredge.schemas import RequestModel, ResponseModel, StoredObject, stored_fields

Code = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$",
        description="Letters, digits, '_', '.', '-' (at most 32); unique in the organisation, ignoring case",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=100)]


def _pattern(value: str) -> str:
    """A pattern that parses (the 422 names the field `pattern` otherwise)."""
    try:
        codes.parse(value)
    except codes.PatternError as error:
        raise ValueError(str(error)) from None
    return value


Pattern = Annotated[
    str,
    Field(
        min_length=1,
        max_length=codes.MAX_PATTERN_LENGTH,
        description="Fixed text and tokens {YYYY} {YY} {MM} {DD} {YYYYMMDD} {SEQ:n} (exactly one) {CTX}",
        examples=["INV-{YYYY}{MM}-{SEQ:5}"],
    ),
    AfterValidator(_pattern),
]


Reset = Literal["day", "month", "year", "never"]
ContextDescription = Annotated[str, Field(max_length=200, description="What {CTX} stands for")]
Context = Annotated[
    str,
    Field(pattern=codes.CONTEXT_PATTERN.pattern, description="The value of {CTX} (a department code, ...)"),
]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]


class CreateCodeRuleRequest(RequestModel):
    code: Code
    name: Name
    pattern: Pattern
    reset: Reset = "never"
    context_description: ContextDescription | None = None
    enabled: bool = True


class UpdateCodeRuleRequest(RequestModel):
    """The fields to change; a field left out keeps its value (context_description null removes it)."""

    version: Version
    code: Code | None = None
    name: Name | None = None
    pattern: Pattern | None = None
    reset: Reset | None = None
    context_description: ContextDescription | None = None
    enabled: bool | None = None


class NextCodeRequest(RequestModel):
    context: Context | None = None


class PatternTestRequest(RequestModel):
    pattern: Pattern
    reset: Reset = "never"
    context: Context | None = None


class CodeRuleResponse(StoredObject):
    code: str
    name: str
    pattern: str
    reset: str
    context_description: str | None = None
    enabled: bool
    created_by: str | None = None

    @classmethod
    def of(cls, rule: CodeRule) -> CodeRuleResponse:
        return cls(
            **stored_fields(rule, rule.rule_id),
            code=rule.code,
            name=rule.name,
            pattern=rule.pattern,
            reset=rule.reset,
            context_description=rule.context_description,
            enabled=bool(rule.enabled),
            created_by=rule.created_by,
        )


class CodeRuleListResponse(ResponseModel):
    items: list[CodeRuleResponse]


class IssuedCodeResponse(ResponseModel):
    code: str
    sequence: int
    period: str
    context: str | None = None

    @classmethod
    def of(cls, issued: IssuedCode) -> IssuedCodeResponse:
        return cls(code=issued.code, sequence=issued.sequence, period=issued.period, context=issued.context)
