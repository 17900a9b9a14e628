"""Code rules and their counters: the items behind :mod:`riveredge.codes`.

A rule (``<scope>CODE_RULE`` / ``<rule id>``) holds a numbering pattern; its code is claimed by a
:class:`CodeRuleCode` (``<scope>CODE_RULE_CODE`` / ``<code, lower case>``) written in the same transaction.
A :class:`CodeCounter` (``<scope>CODE_SEQ#<rule id>`` / ``<context>#<period>``) holds the last sequence
issued for one context value in one reset period; it is only ever changed by a conditional update on the
value read, so two issuers of the same number cannot both commit.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.scope import Scope


class CodeRule(TableModel, discriminator="code_rule"):
    """A numbering pattern such as ``INV-{YYYY}-{SEQ:5}``, reset every day, month, year or never."""

    rule_id = UnicodeAttribute()
    code = UnicodeAttribute()
    name = UnicodeAttribute()
    pattern = UnicodeAttribute()
    reset = UnicodeAttribute(default="never")  # day | month | year | never
    context_description = UnicodeAttribute(null=True)  # what {CTX} stands for (a department code, ...)
    enabled = BooleanAttribute(default=True)
    created_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "code rule"
    id_attribute: ClassVar[str] = "rule_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "pattern": self.pattern,
            "reset": self.reset,
            "context_description": self.context_description,
            "enabled": bool(self.enabled),
        }

    @classmethod
    def new(cls, scope: Scope, rule_id: str, **attributes: Any) -> CodeRule:
        key = keys.code_rule(scope, rule_id)
        return cls(key.pk, key.sk, rule_id=rule_id, **attributes)


class CodeRuleCode(TableModel, discriminator="code_rule_code"):
    """Claims a code-rule code within a tenant (written in the same transaction as the rule)."""

    rule_id = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, code: str, rule_id: str) -> CodeRuleCode:
        key = keys.code_rule_code(scope, code)
        return cls(key.pk, key.sk, rule_id=rule_id)


class CodeCounter(TableModel, discriminator="code_counter"):
    """The last sequence issued by a rule for one context value in one period."""

    rule_id = UnicodeAttribute()
    context = UnicodeAttribute(null=True)
    period = UnicodeAttribute()
    value = NumberAttribute(default=0)

    noun: ClassVar[str] = "code counter"

    @classmethod
    def new(cls, scope: Scope, rule_id: str, context: str, period: str, value: int) -> CodeCounter:
        key = keys.code_counter(scope, rule_id, context, period)
        return cls(key.pk, key.sk, rule_id=rule_id, context=context or None, period=period, value=value)
