"""Global variables and templates: the only code of this function that touches DynamoDB.

Every change bumps its kind's stamp (``mail_globals``, ``email_templates``) in its own transaction
(riveredge.config_cache), so every container's senders see it on their next request.
"""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition
from riveredge import config_cache, keys
from riveredge.actor import Actor
from riveredge.db.changes import change
from riveredge.db.config import MailGlobal
from riveredge.db.mail_templates import EmailTemplate, EmailTemplateCode, EmailTemplateVersion
from riveredge.mail_templates import store
from riveredge.mail_templates.global_variables import KIND
from riveredge.scope import Scope


def find(scope: Scope, key: str) -> MailGlobal | None:
    return MailGlobal.find(keys.mail_global(scope, key))


def create(actor: Actor, item: MailGlobal) -> None:
    with change(actor, "template.global_variable.create", item) as c:
        c.create(item, conflict=f"the global variable '{item.key}' exists already")
        config_cache.bump(c, KIND)


def save(actor: Actor, item: MailGlobal, *, before: dict[str, Any] | None) -> None:
    """A new item (a built-in's first value) or a change of the version read."""
    with change(actor, "template.global_variable.update", item, before=before) as c:
        if before is None:
            c.create(item, conflict="the global variable was set meanwhile; read it again")
        else:
            c.save(item)
        config_cache.bump(c, KIND)


def delete(actor: Actor, item: MailGlobal) -> None:
    with change(actor, "template.global_variable.delete", item, before=item.snapshot()) as c:
        c.delete(item)
        config_cache.bump(c, KIND)


# -- templates: every save writes the template (at the version read) and its next version, one change ---------


def template(scope: Scope, template_id: str) -> EmailTemplate:
    return EmailTemplate.get_or_404(keys.email_template(scope, template_id), missing="no such mail template")


def templates_page(
    scope: Scope, wanted: Condition | None, limit: int, start: dict[str, Any] | None
) -> tuple[list[EmailTemplate], dict[str, Any] | None]:
    """A page of the tenant's templates, oldest first (one Query, filtered: a page may hold fewer)."""
    found = EmailTemplate.query(
        keys.email_templates(scope), filter_condition=wanted, limit=limit, page_size=limit, last_evaluated_key=start
    )
    items = [t for t in found if isinstance(t, EmailTemplate)]
    return items, found.last_evaluated_key


_SUMMARY = ["pk", "sk", "entity", "template_id", "number", "action", "source_version", "name", "is_active"]
_SUMMARY += ["created_at", "updated_at", "created_by", "version"]


def versions_page(
    scope: Scope, template_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[EmailTemplateVersion], dict[str, Any] | None]:
    """A page of a template's versions, newest first, without their bodies (read, not sent)."""
    found = EmailTemplateVersion.query(
        keys.email_template_versions(scope, template_id),
        scan_index_forward=False,
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
        attributes_to_get=_SUMMARY,
    )
    items = [v for v in found if isinstance(v, EmailTemplateVersion)]
    return items, found.last_evaluated_key


def version(scope: Scope, template_id: str, number: int) -> EmailTemplateVersion:
    return EmailTemplateVersion.get_or_404(
        keys.email_template_version(scope, template_id, number), missing=f"the template has no version {number}"
    )


def _taken(code: str, language: str) -> str:
    return f"the organisation has a template of '{code}' in {language} already"


def create_template(actor: Actor, item: EmailTemplate, first: EmailTemplateVersion) -> None:
    """Claim the code in its language, store the template and its version 1: one change."""
    with change(actor, "template.create", item) as c:
        claim = EmailTemplateCode.new(actor.scope, item.code, item.language, item.template_id)
        c.create(claim, conflict=_taken(item.code, item.language))
        c.create(item, conflict="the template exists already")
        c.create(first, conflict="the template exists already")
        config_cache.bump(c, store.KIND)


def save_template(
    actor: Actor, item: EmailTemplate, following: EmailTemplateVersion, *, before: dict[str, Any], action: str
) -> None:
    """The template at the version read and its next version: one change (a concurrent save is a 412)."""
    with change(actor, f"template.{action}", item, before=before) as c:
        c.save(item, stale="the template has changed since it was read; read it again")
        c.create(following, conflict="the template has changed since it was read; read it again")
        config_cache.bump(c, store.KIND)


def delete_template(actor: Actor, item: EmailTemplate) -> None:
    """The template and its code claim (one change), then its versions (nothing reads them without it)."""
    with change(actor, "template.delete", item, before=item.snapshot()) as c:
        c.delete(item, stale="the template has changed since it was read; read it again")
        claim = EmailTemplateCode.new(actor.scope, item.code, item.language, item.template_id)
        c.delete(claim, condition=EmailTemplateCode.template_id == item.template_id, versioned=False)
        config_cache.bump(c, store.KIND)
    found = EmailTemplateVersion.query(
        keys.email_template_versions(actor.scope, item.template_id), attributes_to_get=["pk", "sk"]
    )
    with EmailTemplateVersion.batch_write() as batch:
        for version in found:
            batch.delete(version)
