"""Code rule persistence: the only code of this function that touches DynamoDB (counters: riveredge.codes)."""

from __future__ import annotations

from typing import Any

from riveredge import keys
from riveredge.actor import Actor
from riveredge.db.changes import Change, change
from riveredge.db.codes import CodeRule, CodeRuleCode
from riveredge.scope import Scope


def find(scope: Scope, rule_id: str) -> CodeRule | None:
    return CodeRule.find(keys.code_rule(scope, rule_id))


def list_rules(scope: Scope) -> list[CodeRule]:
    """Every rule of `scope`, oldest first: one Query of its partition."""
    return [r for r in CodeRule.query(keys.code_rules(scope)) if isinstance(r, CodeRule)]


def _taken(code: str) -> str:
    return f"code rule code '{code}' is already in use"


def create(actor: Actor, rule: CodeRule) -> None:
    """Claim the code and store the rule, in one change."""
    with change(actor, "code_rule.create", rule) as c:
        c.create(CodeRuleCode.new(actor.scope, rule.code, rule.rule_id), conflict=_taken(rule.code))
        c.create(rule, conflict="the code rule already exists")


def update(actor: Actor, rule: CodeRule, *, before: dict[str, Any], old_code: str) -> None:
    """Save a changed rule (version-checked); a new code is claimed and the old one released with it."""
    with change(actor, "code_rule.update", rule, before=before) as c:
        c.save(rule, stale="the code rule has changed since it was read")
        old = CodeRuleCode.new(actor.scope, old_code, rule.rule_id)
        new = CodeRuleCode.new(actor.scope, rule.code, rule.rule_id)
        if old.sk != new.sk:
            c.create(new, conflict=_taken(rule.code))
            _release(c, old)


def delete(actor: Actor, rule: CodeRule) -> None:
    """Delete the rule and release its code (its counters stay: a rule id is never used again)."""
    with change(actor, "code_rule.delete", rule, before=rule.snapshot()) as c:
        c.delete(rule, stale="the code rule has changed since it was read")
        _release(c, CodeRuleCode.new(actor.scope, rule.code, rule.rule_id))


def _release(c: Change, claim: CodeRuleCode) -> None:
    """Delete a code claim, provided it is still the claim of this rule."""
    c.delete(claim, condition=CodeRuleCode.rule_id == claim.rule_id, versioned=False, conflict="the code changed hands")
