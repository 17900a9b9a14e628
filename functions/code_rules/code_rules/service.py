"""Code rule rules: a code unique in the organisation, a pattern that parses and shows the period it resets in.

Issuing, previewing and testing codes is :mod:`riveredge.codes` (other modules issue codes through it in
their own changes); this module keeps the rules themselves.
"""

from __future__ import annotations

from riveredge import codes
from riveredge.actor import Actor
from riveredge.clock import new_id
from riveredge.codes import IssuedCode
from riveredge.db.changes import expect_version
from riveredge.db.codes import CodeRule

from code_rules import repository
from code_rules.models import CreateCodeRuleRequest, NextCodeRequest, PatternTestRequest, UpdateCodeRuleRequest


def _check(pattern: str, reset: str) -> None:
    try:
        codes.check(pattern, reset)
    except codes.PatternError as error:
        raise codes.invalid("pattern", str(error)) from None


def create_rule(actor: Actor, request: CreateCodeRuleRequest) -> CodeRule:
    _check(request.pattern, request.reset)
    rule = CodeRule.new(
        actor.scope,
        new_id(),
        code=request.code,
        name=request.name,
        pattern=request.pattern,
        reset=request.reset,
        context_description=request.context_description,
        enabled=request.enabled,
        created_by=actor.user_id,
    )
    repository.create(actor, rule)
    return rule


def list_rules(actor: Actor) -> list[CodeRule]:
    return repository.list_rules(actor.scope)


def get_rule(actor: Actor, rule_id: str) -> CodeRule:
    return codes.rule(actor.scope, rule_id)


def update_rule(actor: Actor, rule_id: str, request: UpdateCodeRuleRequest) -> CodeRule:
    """Change the rule's fields; `version` must be the one read. Codes issued already stay as they are."""
    rule = codes.rule(actor.scope, rule_id)
    expect_version(rule, request.version)
    before, old_code = rule.snapshot(), rule.code
    for field in ("code", "name", "pattern", "reset", "enabled"):
        value = getattr(request, field)
        if value is not None:
            setattr(rule, field, value)
    if "context_description" in request.model_fields_set:
        rule.context_description = request.context_description
    if rule.snapshot() == before:
        return rule  # nothing to change, nothing to log
    _check(rule.pattern, rule.reset)
    repository.update(actor, rule, before=before, old_code=old_code)
    return rule


def delete_rule(actor: Actor, rule_id: str, version: int | None) -> None:
    rule = codes.rule(actor.scope, rule_id)
    expect_version(rule, version)
    repository.delete(actor, rule)


def next_code(actor: Actor, rule_id: str, request: NextCodeRequest | None) -> IssuedCode:
    return codes.next_code(actor, rule_id, request.context if request else None)


def preview(actor: Actor, rule_id: str, request: NextCodeRequest | None) -> IssuedCode:
    return codes.preview(actor.scope, codes.rule(actor.scope, rule_id), request.context if request else None)


def test_pattern(actor: Actor, request: PatternTestRequest) -> IssuedCode:
    try:
        return codes.render(request.pattern, request.reset, 1, scope=actor.scope, context=request.context)
    except codes.PatternError as error:
        raise codes.invalid("pattern", str(error)) from None
