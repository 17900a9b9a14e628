"""A tenant's mail templates: one item per template (its current state, no bodies) and one per version.

A template is one code in one language: an override of a system template type's default (its code is a
type of :mod:`riveredge.mail_templates`) or a template of the organisation's own code, which declares its
variables. Every save writes a new :class:`EmailTemplateVersion` (subject, HTML and text bodies and the
fields beside them, as saved) and moves the template's ``version`` to it: the template's optimistic-lock
version *is* its current version number, so ``versions/{n}`` of a template at version 7 are 1 to 7.
Bodies live only in version items, so neither a long history nor the list of templates makes a big item
(a version holds at most :data:`MAX_BODY_BYTES`; the operation log shows sizes, not bodies).

Read through :mod:`riveredge.mail_templates.store` (cached per container under the ``email_templates``
stamp; a version's content never changes, so it is cached by template id and number); written by the
email-templates function through the one write path.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.scope import Scope

MAX_SUBJECT_CHARS = 255  # the seed's VARCHAR(255)
MAX_HTML_BYTES = 64 * 1024
MAX_TEXT_BYTES = 24 * 1024
MAX_BODY_BYTES = MAX_HTML_BYTES + MAX_TEXT_BYTES + 4 * MAX_SUBJECT_CHARS  # a version item stays below 100 KB


class EmailTemplate(TableModel, discriminator="email_template"):
    """A tenant's template of one code in one language; `version` is its current version's number."""

    template_id = UnicodeAttribute()
    code = UnicodeAttribute()
    language = UnicodeAttribute()
    name = UnicodeAttribute()
    category = UnicodeAttribute()  # auth | notification | collaboration | marketing
    description = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    is_system = BooleanAttribute(default=False)  # its code is a system template type (an override)
    variables = JSONAttribute(null=True)  # a custom code's declared variables: [{key, label, type, example, required}]
    html_bytes = NumberAttribute(default=0)
    text_bytes = NumberAttribute(default=0)
    created_by = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "mail template"
    id_attribute: ClassVar[str] = "template_id"

    def snapshot(self) -> dict[str, Any]:
        """The template as the operation log shows it: its fields and body sizes (bodies are in its versions)."""
        return {
            "code": self.code,
            "language": self.language,
            "name": self.name,
            "category": self.category,
            "description": self.description,
            "is_active": self.is_active,
            "is_system": self.is_system,
            "variables": [v["key"] for v in self.variables or []],
            "html_bytes": int(self.html_bytes or 0),
            "text_bytes": int(self.text_bytes or 0),
        }

    @classmethod
    def new(cls, scope: Scope, template_id: str, **attributes: Any) -> EmailTemplate:
        key = keys.email_template(scope, template_id)
        return cls(key.pk, key.sk, template_id=template_id, **attributes)


class EmailTemplateCode(TableModel, discriminator="email_template_code"):
    """The claim that keeps one template per code and language (names the template holding it)."""

    template_id = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, code: str, language: str, template_id: str) -> EmailTemplateCode:
        key = keys.email_template_code(scope, code, language)
        return cls(key.pk, key.sk, template_id=template_id)


class EmailTemplateVersion(TableModel, discriminator="email_template_version"):
    """Version `number` of a template, as it was saved: written once, never changed."""

    template_id = UnicodeAttribute()
    number = NumberAttribute()
    action = UnicodeAttribute()  # create | update | rollback | reset
    source_version = NumberAttribute(null=True)  # a rollback's version copied
    name = UnicodeAttribute()
    category = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    is_active = BooleanAttribute(default=True)
    variables = JSONAttribute(null=True)
    subject = UnicodeAttribute()
    html_body = UnicodeAttribute()
    text_body = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)

    @classmethod
    def new(cls, scope: Scope, template_id: str, number: int, **attributes: Any) -> EmailTemplateVersion:
        key = keys.email_template_version(scope, template_id, number)
        return cls(key.pk, key.sk, template_id=template_id, number=number, **attributes)
