"""Message persistence: the only code of this function that touches DynamoDB, Secrets Manager and Scheduler."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from pynamodb.expressions.condition import Condition
from riveredge import aws, cursors, integrations, keys
from riveredge.actor import Actor
from riveredge.db.base import TableModel
from riveredge.db.changes import change
from riveredge.db.config import MessageConfig
from riveredge.db.models import Department, Role, User
from riveredge.messaging import schedule_name
from riveredge.messaging.channels import WEBHOOK_SECRET_ID
from riveredge.messaging.models import MessageDelivery, MessageSend, MessageTemplate, MessageTemplateCode
from riveredge.scope import Scope

SOURCE = "messages"


# -- channel configs ----------------------------------------------------------------------------------------
def find_config(scope: Scope, channel: str) -> MessageConfig | None:
    return MessageConfig.find(keys.message_config(scope, channel))


def configs(scope: Scope) -> dict[str, MessageConfig]:
    found = MessageConfig.query(keys.message_configs(scope))
    return {c.channel: c for c in found if isinstance(c, MessageConfig)}


def save_config(actor: Actor, item: MessageConfig, *, before: dict[str, Any] | None, secret: str | None) -> None:
    """Create or replace a channel's config; a new secret is written first and put back if the save fails."""
    previous = None
    if secret is not None:
        if item.secret_arn:
            previous = integrations.read_secret(item.secret_arn)
        item.secret_arn = integrations.store_secret(actor.scope, WEBHOOK_SECRET_ID, secret, item.secret_arn)
    try:
        with change(actor, "message_config.save", item, before=before) as c:
            c.save(item, stale="the channel's config changed since it was read")
            c.publish("message_config.saved", {"channel": item.channel}, source=SOURCE)
    except Exception:
        if secret is not None and item.secret_arn:
            if previous is None:
                integrations.delete_secret(item.secret_arn)
            else:
                integrations.store_secret(actor.scope, WEBHOOK_SECRET_ID, previous, item.secret_arn)
        raise


def delete_config(actor: Actor, item: MessageConfig) -> None:
    with change(actor, "message_config.delete", item, before=item.snapshot()) as c:
        c.delete(item, stale="the channel's config changed since it was read")
        c.publish("message_config.deleted", {"channel": item.channel}, source=SOURCE)
    if item.secret_arn:
        integrations.delete_secret(item.secret_arn)


# -- templates ----------------------------------------------------------------------------------------------
def find_template(scope: Scope, template_id: str) -> MessageTemplate | None:
    return MessageTemplate.find(keys.message_template(scope, template_id))


def template_page(scope: Scope, limit: int, cursor: str | None) -> tuple[list[MessageTemplate], str | None]:
    query = cursors.fingerprint({"route": "message-templates"})
    found: Any = MessageTemplate.query(
        keys.message_templates(scope),
        limit=limit,
        page_size=limit,
        last_evaluated_key=cursors.decode(scope, query, cursor),
    )
    items = [t for t in found if isinstance(t, MessageTemplate)]
    return items, cursors.encode(scope, query, found.last_evaluated_key)


def create_template(actor: Actor, template: MessageTemplate) -> None:
    code = MessageTemplateCode.new(actor.scope, template.code, template.template_id)
    with change(actor, "message_template.create", template) as c:
        c.create(template, conflict="the template exists already")
        c.create(code, conflict=f"a message template with code {template.code!r} exists already")


def save_template(actor: Actor, template: MessageTemplate, *, before: dict[str, Any], old_code: str) -> None:
    with change(actor, "message_template.update", template, before=before) as c:
        c.save(template, stale="the template changed since it was read")
        if old_code.lower() != template.code.lower():
            c.create(
                MessageTemplateCode.new(actor.scope, template.code, template.template_id),
                conflict=f"a message template with code {template.code!r} exists already",
            )
            old = keys.message_template_code(actor.scope, old_code)
            c.delete(MessageTemplateCode(old.pk, old.sk), versioned=False)


def delete_template(actor: Actor, template: MessageTemplate) -> None:
    code = keys.message_template_code(actor.scope, template.code)
    with change(actor, "message_template.delete", template, before=template.snapshot()) as c:
        c.delete(template, stale="the template changed since it was read")
        c.delete(MessageTemplateCode(code.pk, code.sk), versioned=False)


# -- recipients ------------------------------------------------------------------------------------------------
def department_paths(scope: Scope, department_ids: list[str]) -> dict[str, str]:
    """The paths of those of `department_ids` that exist (one BatchGetItem per 100)."""
    found: dict[str, str] = {}
    for start in range(0, len(department_ids), 100):
        wanted = [keys.department(scope, d) for d in department_ids[start : start + 100]]
        for item in TableModel.batch_get([(k.pk, k.sk) for k in wanted]):
            if isinstance(item, Department):
                found[item.department_id] = item.path
    return found


def role_ids(scope: Scope) -> set[str]:
    """Every role id of the tenant (one Query: a tenant has tens of roles)."""
    return {r.role_id for r in Role.query(keys.collection(scope, "ROLE")) if isinstance(r, Role)}


def user(scope: Scope, user_id: str) -> User | None:
    return User.find(keys.user(scope, user_id))


# -- sends ------------------------------------------------------------------------------------------------------
def create_send(actor: Actor, send: MessageSend) -> None:
    """The send and the event that starts its fan-out (or its schedule): one transaction."""
    with change(actor, "message.send", send) as c:
        c.create(send, conflict="the message exists already")
        c.publish("message.send_requested", {"send_id": send.send_id}, source=SOURCE)


def find_send(scope: Scope, send_id: str) -> MessageSend | None:
    return MessageSend.find(keys.message_send(scope, send_id))


def cancel_send(actor: Actor, send: MessageSend, *, before: dict[str, Any]) -> None:
    """Cancelled, on condition that it has not started going out meanwhile (409 otherwise)."""
    with change(actor, "message.cancel", send, before=before) as c:
        c.save(
            send,
            condition=MessageSend.status.is_in("scheduled", "queued"),
            conflict="the message has started going out; it cannot be cancelled any more",
        )
        c.publish("message.cancelled", {"send_id": send.send_id}, source=SOURCE)


def delete_schedule(send_id: str) -> None:
    """Delete a scheduled send's schedule (none there: fine, it never was made or has fired)."""
    try:
        aws.scheduler().delete_schedule(Name=schedule_name(send_id))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise


def send_page(
    scope: Scope,
    condition: Condition | None,
    bounds: tuple[str, str] | None,
    limit: int,
    cursor: str | None,
    query: str,
) -> tuple[list[MessageSend], str | None]:
    """Newest first: one reverse Query of the sends' partition (a time range is a range of their ULIDs)."""
    range_condition = MessageSend.sk.between(*bounds) if bounds else None
    found: Any = MessageSend.query(
        keys.message_sends(scope),
        range_condition,
        filter_condition=condition,
        scan_index_forward=False,
        limit=limit,
        page_size=limit,
        last_evaluated_key=cursors.decode(scope, query, cursor),
    )
    items = [s for s in found if isinstance(s, MessageSend)]
    return items, cursors.encode(scope, query, found.last_evaluated_key)


def delivery_page(
    scope: Scope, send_id: str, condition: Condition | None, limit: int, cursor: str | None, query: str
) -> tuple[list[MessageDelivery], str | None]:
    found: Any = MessageDelivery.query(
        keys.message_deliveries(scope, send_id),
        filter_condition=condition,
        limit=limit,
        page_size=limit,
        last_evaluated_key=cursors.decode(scope, query, cursor),
    )
    items = [d for d in found if isinstance(d, MessageDelivery)]
    return items, cursors.encode(scope, query, found.last_evaluated_key)
