"""Message rules: channel configs (checked when saved), message templates (checked with the renderer), and
pushes, which are checked here and written with the event that starts their fan-out (functions/message_fanout).
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel
from pydantic import ValidationError as ModelError
from pynamodb.expressions.condition import Condition
from riveredge import cursors, inbox, integrations, mail, realtime
from riveredge.actor import Actor
from riveredge.clock import iso, new_id, ulid_bound, utcnow
from riveredge.db.changes import change, expect_version
from riveredge.db.config import MessageConfig
from riveredge.db.models import InboxMessage, map_values
from riveredge.emails import normalise_email
from riveredge.errors import (
    BadRequestError,
    ConflictError,
    FieldProblem,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from riveredge.messaging import CHANNELS, STATUSES, schedule_name
from riveredge.messaging.channels import Channel, channels, phone_number, post_webhook, send_sms
from riveredge.messaging.content import PROBE, Message, Recipient, check_bodies
from riveredge.messaging.models import MessageDelivery, MessageSend, MessageTemplate
from riveredge.outbound import OutboundError
from riveredge.schemas import stored_fields

from messages import repository
from messages.models import (
    CreateMessageTemplateRequest,
    DeliveryCountsResponse,
    InAppConfig,
    MessageConfigResponse,
    MessageConfigTestResponse,
    MessageDeliveryResponse,
    MessagePreviewRequest,
    MessagePreviewResponse,
    MessageSendResponse,
    MessageTemplateResponse,
    PutMessageConfigRequest,
    SendMessageRequest,
    SmsConfig,
    UpdateMessageTemplateRequest,
    WebhookConfig,
)

MASK = "******"
SEND_TO_OTHERS = "mail.send"  # a test mail to an address other than the caller's own (as email templates')
ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
MAX_TEMPLATE_BYTES = 256_000  # bodies and variables as UTF-8 JSON: the template and a send's copy fit an item
EARLIEST = timedelta(minutes=1)
LATEST = timedelta(days=366)


def _channel_name(channel: str) -> str:
    if channel not in CHANNELS:
        raise NotFoundError("no such channel")
    return channel


def _invalid(prefix: str, error: ModelError) -> ValidationError:
    problems = [FieldProblem(".".join([prefix, *(str(p) for p in e["loc"])]), str(e["msg"])) for e in error.errors()]
    return ValidationError("the config is not valid", errors=problems)


# -- channel configs ---------------------------------------------------------------------------------------------
def config_response(found: Channel) -> MessageConfigResponse:
    stored = found.stored
    times = stored_fields(stored, found.name) if stored else {"id": found.name, "created_at": "", "updated_at": ""}
    return MessageConfigResponse(
        **{"version": 0, **times},
        channel=found.name,  # type: ignore[arg-type]  # one of CHANNELS
        name=stored.name if stored else None,
        enabled=found.enabled,
        configured=stored is not None,
        usable=found.usable,
        config=found.config,
        secret=MASK if stored and stored.secret_arn else None,
        secret_updated_at=stored.secret_updated_at if stored else None,
    )


def list_configs(actor: Actor) -> list[Channel]:
    return list(channels(actor.scope).values())


def get_config(actor: Actor, channel: str) -> Channel:
    name = _channel_name(channel)
    return Channel(name, repository.find_config(actor.scope, name))


def _checked_config(actor: Actor, channel: str, config: dict[str, Any]) -> dict[str, Any]:
    """The channel's config as its model reads it; an email sender must be a verified SES identity."""
    model: type[BaseModel]
    if channel == "email":
        model = mail.SenderConfig
    else:
        models: dict[str, type[BaseModel]] = {"in_app": InAppConfig, "sms": SmsConfig, "webhook": WebhookConfig}
        model = models[channel]
    try:
        checked = model.model_validate(config)
    except ModelError as error:
        raise _invalid("config", error) from None
    if channel == "email":
        mail.check_sender(checked)  # type: ignore[arg-type]  # a SenderConfig: validated by it just now
    if isinstance(checked, WebhookConfig):
        integrations.check_url(actor.scope, checked.url, field="config.url")
    return checked.model_dump(mode="json", exclude_none=True)


def put_config(actor: Actor, channel: str, body: PutMessageConfigRequest) -> Channel:
    name = _channel_name(channel)
    stored = repository.find_config(actor.scope, name)
    expect_version(stored or MessageConfig.new(actor.scope, name), body.version)
    if body.secret is not None and name != "webhook":
        raise ValidationError("only a webhook has a secret", errors=[FieldProblem("secret", "only for webhook")])
    if name == "webhook" and body.secret is None and not (stored and stored.secret_arn):
        raise ValidationError("secret is required", errors=[FieldProblem("secret", "a webhook needs one")])
    config = _checked_config(actor, name, body.config)
    before = stored.snapshot() if stored else None
    item = stored or MessageConfig.new(actor.scope, name)
    item.enabled, item.name, item.config = body.enabled, body.name, config
    if body.secret is not None:
        item.secret_updated_at = iso(utcnow())
    if stored is None or item.snapshot() != before or body.secret is not None:
        repository.save_config(actor, item, before=before, secret=body.secret)
    return Channel(name, item)


def delete_config(actor: Actor, channel: str, version: int | None) -> None:
    name = _channel_name(channel)
    stored = repository.find_config(actor.scope, name)
    if stored is None:
        raise NotFoundError(f"the {name} channel has no stored config")
    expect_version(stored, version)
    repository.delete_config(actor, stored)


TEST_TITLE = "RiverEdge test message"
TEST_TEXT = "This message tests the channel's configuration. Nothing needs doing."


def test_config(actor: Actor, channel: str, to: str | None) -> MessageConfigTestResponse:
    """Send one test message on the channel with its stored config (switched off or not)."""
    found = get_config(actor, channel)
    if found.stored is None and found.name not in ("in_app", "email"):
        raise ConflictError(found.why_not)
    started = time.monotonic()
    answer = _test(actor, found, to)
    if answer.latency_ms is None:
        answer.latency_ms = round((time.monotonic() - started) * 1000, 1)
    return answer


def _test(actor: Actor, found: Channel, to: str | None) -> MessageConfigTestResponse:
    scope, name = actor.scope, found.name
    if name == "email":
        mine = _own_email(actor)
        try:
            address = normalise_email(to if to is not None else (mine or ""))
        except ValueError as error:
            raise ValidationError("not an email address", errors=[FieldProblem("to", str(error))]) from None
        if address != mine and not actor.principal.can(SEND_TO_OTHERS):
            raise ForbiddenError(f"permission {SEND_TO_OTHERS} is required to send a test to another address")
        html = f"<p>{TEST_TEXT}</p>"
        reference = mail.send_raw(scope, [address], TEST_TITLE, html, TEST_TEXT, kind="message_test", test=True)
        return MessageConfigTestResponse(channel="email", ok=True, detail=f"queued to {address}", reference=reference)
    if name == "sms":
        phone = phone_number(to)
        if phone is None:
            raise ValidationError(
                "no phone number", errors=[FieldProblem("to", "an E.164 number such as +8613800000000")]
            )
        try:
            reference = send_sms(found.config, phone, f"{TEST_TITLE}: {TEST_TEXT}")
        except (BotoCoreError, ClientError) as error:
            return MessageConfigTestResponse(channel="sms", ok=False, detail=f"SNS refused it: {error}")
        return MessageConfigTestResponse(channel="sms", ok=True, detail=f"sent to {phone}", reference=reference)
    if name == "in_app":
        item = InboxMessage.new(scope, actor.user_id, new_id(), type="system", title=TEST_TITLE, content=TEST_TEXT)
        with change(actor, "message_config.test") as c:
            inbox.deliver(c, item)
        realtime.push(scope, actor.user_id, inbox.message_frame(item))
        return MessageConfigTestResponse(channel="in_app", ok=True, detail="in your inbox", reference=item.message_id)
    stored = found.stored
    assert stored is not None  # a webhook without a config was refused above
    body = Message(f"test-{new_id()}", "system", TEST_TITLE, TEST_TEXT).webhook(_recipient_of(actor))[1]
    try:
        answered = post_webhook(scope, stored, body, delivery_id=f"test-{new_id()}", event="message.test")
    except OutboundError as error:
        return MessageConfigTestResponse(channel="webhook", ok=False, detail=error.detail)
    ok = 200 <= answered.status < 300
    return MessageConfigTestResponse(
        channel="webhook",
        ok=ok,
        detail="the receiver accepted it" if ok else f"the receiver answered {answered.status}",
        status=answered.status,
        latency_ms=round(answered.elapsed * 1000, 1),
    )


def _own_email(actor: Actor) -> str | None:
    found = repository.user(actor.scope, actor.user_id)
    return found.email if found is not None else None


def _recipient_of(actor: Actor) -> Recipient:
    found = repository.user(actor.scope, actor.user_id)
    return Recipient(actor.user_id, found.name if found else "", found.email if found else "")


# -- templates --------------------------------------------------------------------------------------------------
def template_response(template: MessageTemplate) -> MessageTemplateResponse:
    bodies = dict(template.bodies or {})
    return MessageTemplateResponse(
        **stored_fields(template, template.template_id),
        name=template.name,
        code=template.code,
        type=template.type,
        description=template.description,
        channels=[c for c in CHANNELS if c in bodies],  # type: ignore[misc]  # one of CHANNELS
        bodies=bodies,
        variables=list(template.variables or []),
        enabled=bool(template.enabled),
        created_by=template.created_by,
    )


def _checked_bodies(bodies: dict[str, Any], variables: list[dict[str, Any]]) -> None:
    size = len(json.dumps([bodies, variables], ensure_ascii=False).encode())
    if size > MAX_TEMPLATE_BYTES:
        problem = f"the bodies and variables are {size:,} bytes; at most {MAX_TEMPLATE_BYTES:,} are allowed"
        raise ValidationError("the template is too large", errors=[FieldProblem("bodies", problem)])
    problems = check_bodies(bodies, [str(v["key"]) for v in variables])
    if problems:
        raise ValidationError("the template cannot be used", errors=problems)


def list_templates(actor: Actor, limit: int, cursor: str | None) -> tuple[list[MessageTemplate], str | None]:
    return repository.template_page(actor.scope, limit, cursor)


def get_template(actor: Actor, template_id: str) -> MessageTemplate:
    found = repository.find_template(actor.scope, template_id) if ULID.match(template_id) else None
    if found is None:
        raise NotFoundError("no such message template")
    return found


def create_template(actor: Actor, body: CreateMessageTemplateRequest) -> MessageTemplate:
    bodies = body.bodies.model_dump(mode="json", exclude_none=True)
    variables = [v.model_dump(mode="json") for v in body.variables]
    _checked_bodies(bodies, variables)
    template = MessageTemplate.new(
        actor.scope,
        new_id(),
        name=body.name,
        code=body.code,
        type=body.type,
        description=body.description,
        bodies=bodies,
        variables=variables,
        enabled=body.enabled,
        created_by=actor.user_id,
    )
    repository.create_template(actor, template)
    return template


def update_template(actor: Actor, template_id: str, body: UpdateMessageTemplateRequest) -> MessageTemplate:
    template = get_template(actor, template_id)
    expect_version(template, body.version)
    before, old_code = template.snapshot(), template.code
    old_bodies, old_variables = template.bodies, template.variables
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for name in ("name", "code", "type", "description", "enabled"):
        if name in changes and (changes[name] is not None or name == "description"):
            setattr(template, name, changes[name])
    if body.bodies is not None:
        template.bodies = body.bodies.model_dump(mode="json", exclude_none=True)
    if body.variables is not None:
        template.variables = [v.model_dump(mode="json") for v in body.variables]
    _checked_bodies(dict(template.bodies or {}), list(template.variables or []))
    unchanged = template.bodies == old_bodies and template.variables == old_variables
    if template.snapshot() != before or not unchanged:
        repository.save_template(actor, template, before=before, old_code=old_code)
    return template


def delete_template(actor: Actor, template_id: str, version: int | None) -> None:
    template = get_template(actor, template_id)
    expect_version(template, version)
    repository.delete_template(actor, template)


def _template_message(template: MessageTemplate, variables: dict[str, Any], send_id: str = "preview") -> Message:
    return Message(
        send_id=send_id,
        type=template.type,
        title=template.name,
        content=None,
        template_id=template.template_id,
        template_version=int(template.version or 0),
        bodies=dict(template.bodies or {}),
        declared=tuple(template.variables or ()),
        values=variables,
    )


def preview(actor: Actor, template_id: str, body: MessagePreviewRequest) -> MessagePreviewResponse:
    template = get_template(actor, template_id)
    examples = {str(v["key"]): v["example"] for v in template.variables or [] if v.get("example") is not None}
    message = _template_message(template, _nested({**examples}) | body.variables)
    given = body.recipient or {}
    recipient = Recipient(
        given.get("id", PROBE.user_id), given.get("name", PROBE.name), given.get("email", PROBE.email)
    )
    bodies = dict(template.bodies or {})
    message.check([c for c in CHANNELS if c in bodies])
    answer = MessagePreviewResponse()
    if "in_app" in bodies:
        title, content = message.in_app(recipient)
        answer.in_app = {"title": title, "content": content}
    if "email" in bodies:
        subject, html, text = message.email(recipient)
        answer.email = {"subject": subject, "html": html, "text": text}
    if "sms" in bodies:
        answer.sms = {"text": message.sms(recipient)}
    if "webhook" in bodies:
        content_type, payload = message.webhook(recipient)
        answer.webhook = {"content_type": content_type, "body": payload.decode()}
    return answer


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """Example values keyed by dotted paths (order.id) as the nested mapping a template reads."""
    out: dict[str, Any] = {}
    for path, value in flat.items():
        node = out
        *parents, last = path.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node.setdefault(last, value)
    return out


# -- sends -------------------------------------------------------------------------------------------------------
def send_response(send: MessageSend) -> MessageSendResponse:
    counts = map_values(send.counts)
    spec = dict(send.recipients or {})
    return MessageSendResponse(
        **stored_fields(send, send.send_id),
        title=send.title,
        content=send.content,
        type=send.type,
        template_id=send.template_id,
        template_version=int(send.template_version) if send.template_version is not None else None,
        variables=dict(send.variables or {}),
        link=send.link,
        recipients={
            "user_ids": list(spec.get("user_ids") or []),
            "role_ids": list(spec.get("role_ids") or []),
            "department_ids": [d["id"] for d in spec.get("departments") or []],
            "include_children": bool(spec.get("include_children", True)),
            "everyone": bool(spec.get("everyone")),
        },
        channels=send.channels,
        send_at=iso(send.send_at) if send.send_at else None,
        status=send.status,  # type: ignore[arg-type]  # written by this function and the fan-out only
        error=send.error,
        created_by=send.created_by,
        started_at=iso(send.started_at) if send.started_at else None,
        finished_at=iso(send.finished_at) if send.finished_at else None,
        cancelled_at=iso(send.cancelled_at) if send.cancelled_at else None,
        recipient_count=int(send.recipient_count or 0),
        counts={
            channel: DeliveryCountsResponse(**{s: int(counts.get(f"{channel}_{s}", 0)) for s in STATUSES})  # type: ignore[misc]
            for channel in CHANNELS
        },
    )


def _channels_of(actor: Actor, body: SendMessageRequest, message: Message) -> list[str]:
    """The channels to check the message on: the asked-for ones (each usable, with a body), or those a
    recipient's preferences may pick (in_app, email, sms) that are usable and have a body."""
    tenant = channels(actor.scope)
    if body.channels is None:
        usable = [c for c in ("in_app", "email", "sms") if tenant[c].usable and message.has(c)]
        if not usable:
            raise ValidationError(
                "no channel to send on", errors=[FieldProblem("channels", "no channel is usable for this message")]
            )
        return usable
    problems = []
    for index, name in enumerate(body.channels):
        if not tenant[name].usable:
            problems.append(FieldProblem(f"channels.{index}", tenant[name].why_not))
        elif not message.has(name):
            problems.append(FieldProblem(f"channels.{index}", f"the template has no {name} body"))
    if problems:
        raise ValidationError("a channel cannot be used", errors=problems)
    return list(body.channels)


def _recipients(actor: Actor, body: SendMessageRequest) -> dict[str, Any]:
    """The recipient spec as the fan-out reads it: unique ids, departments with their paths. Roles and
    departments must be the tenant's; user ids that are not the tenant's users simply reach nobody."""
    wanted = body.recipients
    problems: list[FieldProblem] = []
    roles = repository.role_ids(actor.scope) if wanted.role_ids else set()
    problems += [
        FieldProblem(f"recipients.role_ids.{i}", "no such role")
        for i, r in enumerate(wanted.role_ids)
        if r not in roles
    ]
    paths = repository.department_paths(actor.scope, list(dict.fromkeys(wanted.department_ids)))
    problems += [
        FieldProblem(f"recipients.department_ids.{i}", "no such department")
        for i, d in enumerate(wanted.department_ids)
        if d not in paths
    ]
    if problems:
        raise ValidationError("a recipient group is not the organisation's", errors=problems)
    return {
        "user_ids": sorted(set(wanted.user_ids)),
        "role_ids": sorted(set(wanted.role_ids)),
        "departments": [{"id": d, "path": paths[d]} for d in sorted(paths)],
        "include_children": wanted.include_children,
        "everyone": wanted.everyone,
    }


def _send_at(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    now = utcnow()
    if value < now + EARLIEST:
        raise ValidationError("send_at is too soon", errors=[FieldProblem("send_at", "at least a minute from now")])
    if value > now + LATEST:
        raise ValidationError("send_at is too late", errors=[FieldProblem("send_at", "at most a year from now")])
    return value.replace(microsecond=0)


def send(actor: Actor, body: SendMessageRequest) -> MessageSend:
    send_id = new_id()
    template = None
    if body.template_id is not None:
        template = repository.find_template(actor.scope, body.template_id)
        if template is None:
            raise ValidationError("no such template", errors=[FieldProblem("template_id", "no such message template")])
        if not template.enabled:
            raise ValidationError(
                "template is off", errors=[FieldProblem("template_id", "the template is switched off")]
            )
        message = _template_message(template, body.variables, send_id)
    else:
        message = Message(send_id, body.type or "notice", body.title or "", body.content, body.link)
    checked = _channels_of(actor, body, message)
    message.check(checked)
    recipients = _recipients(actor, body)
    send_at = _send_at(body.send_at)
    item = MessageSend.new(
        actor.scope,
        send_id,
        title=message.title,
        content=message.content,
        type=body.type or (template.type if template else "notice"),
        template_id=template.template_id if template else None,
        template_version=int(template.version or 0) if template else None,
        template={"bodies": template.bodies, "variables": template.variables} if template else None,
        variables=body.variables or None,
        link=body.link,
        recipients=recipients,
        channels=list(body.channels) if body.channels is not None else None,
        send_at=send_at,
        status="scheduled" if send_at else "queued",
        schedule_name=schedule_name(send_id) if send_at else None,
        created_by=actor.user_id,
    )
    repository.create_send(actor, item)
    return item


def get_send(actor: Actor, send_id: str) -> MessageSend:
    found = repository.find_send(actor.scope, send_id) if ULID.match(send_id) else None
    if found is None:
        raise NotFoundError("no such message")
    return found


def cancel(actor: Actor, send_id: str) -> MessageSend:
    found = get_send(actor, send_id)
    if found.status not in ("scheduled", "queued"):
        raise ConflictError(f"the message is {found.status}; only a scheduled or queued one can be cancelled")
    before = found.snapshot()
    found.status, found.cancelled_at = "cancelled", utcnow()
    repository.cancel_send(actor, found, before=before)
    if found.schedule_name:
        repository.delete_schedule(send_id)
    return found


def list_sends(
    actor: Actor,
    *,
    status: str | None,
    type_: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[MessageSend], str | None]:
    for name, value in (("created_after", created_after), ("created_before", created_before)):
        if value is not None and value.tzinfo is None:
            raise BadRequestError(f"{name} needs a time zone (Z or an offset)")
    bounds = None
    if created_after or created_before:
        low = ulid_bound(created_after, upper=False) if created_after else "0" * 26
        high = ulid_bound(created_before, upper=True) if created_before else "Z" * 26
        if low > high:
            return [], None
        bounds = (low, high)
    condition: Condition | None = None
    if status:
        condition = MessageSend.status == status
    if type_:
        condition = (MessageSend.type == type_) if condition is None else condition & (MessageSend.type == type_)
    query = cursors.fingerprint(
        {"route": "messages", "status": status, "type": type_, "after": created_after, "before": created_before}
    )
    return repository.send_page(actor.scope, condition, bounds, limit, cursor, query)


def delivery_response(item: MessageDelivery) -> MessageDeliveryResponse:
    return MessageDeliveryResponse(
        id=item.delivery_id,
        send_id=item.send_id,
        user_id=item.user_id,
        channel=item.channel,  # type: ignore[arg-type]  # one of CHANNELS
        status=item.status,  # type: ignore[arg-type]  # one of STATUSES
        address=item.address,
        error=item.error,
        attempts=int(item.attempts or 0),
        delivered_at=iso(item.delivered_at) if item.delivered_at else None,
        read_at=iso(item.read_at) if item.read_at else None,
        created_at=iso(item.created_at) if item.created_at else "",
        updated_at=iso(item.updated_at) if item.updated_at else "",
    )


def list_deliveries(
    actor: Actor, send_id: str, *, status: str | None, channel: str | None, limit: int, cursor: str | None
) -> tuple[list[MessageDelivery], str | None]:
    get_send(actor, send_id)
    condition: Condition | None = None
    if status:
        condition = MessageDelivery.status == status
    if channel:
        wanted = MessageDelivery.channel == channel
        condition = wanted if condition is None else condition & wanted
    query = cursors.fingerprint({"route": "message-deliveries", "send": send_id, "status": status, "channel": channel})
    return repository.delivery_page(actor.scope, send_id, condition, limit, cursor, query)
