"""The shipped template types: every default body is a valid template of its own variables and the global
ones, and renders with the examples (HTML escaped, subject on one line)."""

from __future__ import annotations

from email.header import Header

import pytest
from riveredge import mail_templates, rendering
from riveredge.errors import ValidationError
from riveredge.mail_templates import TemplateType, get, register, type_of, types
from riveredge.mail_templates.global_variables import BUILT_IN_KEYS

GLOBALS = {
    "app_name": "RiverEdge",
    "site_url": "https://app.example.com",
    "support_email": "help@example.com",
    "company_name": "Acme <Corp>",
    "current_year": "2026",
    "current_date": "2026-12-03",
}
PARTS = (("subject", "subject"), ("html", "html"), ("text", "text"))


@pytest.mark.parametrize("kind", types(), ids=lambda t: t.code)
def test_every_shipped_default_checks_and_renders_with_its_examples(kind: TemplateType) -> None:
    assert set(GLOBALS) == BUILT_IN_KEYS
    known = [v.key for v in kind.variables] + sorted(BUILT_IN_KEYS)
    for language, body in kind.defaults.items():
        for attribute, part in PARTS:
            source = getattr(body, attribute)
            assert rendering.check(source, field=attribute, kind=part, variables=known) == [], (kind.code, language)
            rendered = rendering.render(
                source, {**GLOBALS, **kind.examples()}, field=attribute, kind=part, variables=known
            )
            assert "{{" not in rendered, (kind.code, language, attribute)
            if attribute == "html":
                assert "Acme &lt;Corp&gt;" in rendered, (kind.code, language)  # variables are escaped in HTML
            if attribute == "subject":
                assert "\n" not in rendered and str(Header(rendered, "utf-8"))


def test_a_required_variable_the_caller_leaves_out_is_named() -> None:
    kind = get("verification_code_register")
    assert kind is not None
    body = kind.default("en-US")
    assert body is not None
    with pytest.raises(ValidationError) as refused:
        rendering.render(body.text, GLOBALS, field="text_body", kind="text", required=kind.required)
    assert "missing required variable 'code'" in refused.value.errors[0].message


def test_a_module_registers_its_own_type_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail_templates, "_registered", {})  # the registry as no module has filled it
    approval = type_of(
        {
            "code": "test_approval_pending",
            "category": "notification",
            "name": {"en-US": "Approval waiting", "zh-CN": "待审批"},
            "variables": [{"key": "title", "label": {"en-US": "Title"}, "type": "string", "required": True}],
        }
    )
    register(approval)
    register(approval)  # the same one again (a module imported twice) is harmless
    assert get("test_approval_pending") is approval and approval in types()
    with pytest.raises(ValueError, match="registered already"):
        register(type_of({"code": "welcome_email", "category": "auth", "name": {"en-US": "Mine"}}))
    with pytest.raises(ValueError, match="category"):
        type_of({"code": "x", "category": "spam", "name": {"en-US": "X"}})
