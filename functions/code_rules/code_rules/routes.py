"""Code rule routes: the rules, and the codes they issue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from riveredge.http import (
    DELETED,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    with_if_match,
)

from code_rules import service
from code_rules.models import (
    CodeRuleListResponse,
    CodeRuleResponse,
    CreateCodeRuleRequest,
    IssuedCodeResponse,
    NextCodeRequest,
    PatternTestRequest,
    UpdateCodeRuleRequest,
)

router = ApiRouter("code_rules")

RULE = "/api/code-rules/<rule_id>"


@router.post(
    "/api/code-rules",
    permission="code_rule.create",
    permission_name="Create code rules",
    status_code=201,
    summary="Create a code rule: a numbering pattern and when its sequence restarts",
    responses=created_as(CodeRuleResponse),
)
def create_rule(body: CreateCodeRuleRequest) -> Response[dict[str, Any]]:
    rule = CodeRuleResponse.of(service.create_rule(actor_of(router), body))
    return created(rule, f"/api/code-rules/{rule.id}")


@router.get(
    "/api/code-rules",
    permission="code_rule.view",
    permission_name="View code rules",
    summary="Every code rule of the organisation, oldest first",
)
def list_rules() -> CodeRuleListResponse:
    return CodeRuleListResponse(items=[CodeRuleResponse.of(r) for r in service.list_rules(actor_of(router))])


@router.post(
    "/api/code-rules/test",
    permission="code_rule.view",
    summary="The first code (sequence 1) an unsaved pattern would give now",
)
def test_pattern(body: PatternTestRequest) -> IssuedCodeResponse:
    return IssuedCodeResponse.of(service.test_pattern(actor_of(router), body))


@router.get(RULE, permission="code_rule.view", summary="Read a code rule")
def get_rule(rule_id: str) -> CodeRuleResponse:
    return CodeRuleResponse.of(service.get_rule(actor_of(router), rule_id))


@router.put(
    RULE,
    permission="code_rule.edit",
    permission_name="Edit code rules",
    summary="Change a code rule's code, name, pattern, reset period, context description or whether it is on",
)
def update_rule(rule_id: str, body: UpdateCodeRuleRequest) -> CodeRuleResponse:
    return CodeRuleResponse.of(service.update_rule(actor_of(router), rule_id, with_if_match(router, body)))


@router.delete(
    RULE,
    permission="code_rule.delete",
    permission_name="Delete code rules",
    status_code=204,
    summary="Delete a code rule",
    responses=DELETED,
)
def delete_rule(rule_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete_rule(actor_of(router), rule_id, expected_version(router, version))
    return no_content()


@router.post(
    f"{RULE}/next",
    permission="code_rule.issue",
    permission_name="Issue codes",
    summary="Issue the rule's next code (gap-free; each context value keeps its own sequence)",
)
def next_code(rule_id: str, body: NextCodeRequest | None = None) -> IssuedCodeResponse:
    return IssuedCodeResponse.of(service.next_code(actor_of(router), rule_id, body))


@router.post(f"{RULE}/preview", permission="code_rule.view", summary="The rule's next code, without consuming it")
def preview(rule_id: str, body: NextCodeRequest | None = None) -> IssuedCodeResponse:
    return IssuedCodeResponse.of(service.preview(actor_of(router), rule_id, body))
