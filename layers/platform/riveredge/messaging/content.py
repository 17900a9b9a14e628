"""What a message says on each channel, for one recipient: a send's own title and content, or its
template's bodies rendered with the send's variables and the recipient (riveredge.rendering).

A send without a template says its title and content as they are (never rendered: ``{{`` in them is text).
A template's bodies may use its declared variables and the recipient's ``recipient.id``, ``recipient.name``
and ``recipient.email``. Compiled templates are cached per container under the template id, its version and
the part, so a fan-out of 10,000 recipients compiles each part once.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from riveredge import rendering
from riveredge.errors import FieldProblem, ValidationError
from riveredge.messaging.channels import SMS_MAX_CHARACTERS
from riveredge.messaging.models import MessageSend

RECIPIENT_VARIABLES: tuple[str, ...] = ("recipient.id", "recipient.name", "recipient.email")
TEXT_PARTS: dict[str, tuple[tuple[str, rendering.Kind], ...]] = {
    "in_app": (("title", "subject"), ("content", "text")),
    "email": (("subject", "subject"), ("html", "html"), ("text", "text")),
    "sms": (("text", "text"),),
}
WEBHOOK_FORMATS = ("json", "text")


@dataclass(frozen=True)
class Recipient:
    user_id: str
    name: str
    email: str
    phone: str | None = None

    def variables(self) -> dict[str, str]:
        return {"id": self.user_id, "name": self.name, "email": self.email}


PROBE = Recipient("01ARZ3NDEKTSV4RRFFQ69G5FAV", "Recipient", "recipient@example.com")


@dataclass(frozen=True)
class Message:
    """A send's words: its title and content, or a template (bodies and variables) and the values."""

    send_id: str
    type: str
    title: str
    content: str | None
    link: str | None = None
    template_id: str | None = None
    template_version: int | None = None
    bodies: Mapping[str, Any] = field(default_factory=dict)
    declared: tuple[dict[str, Any], ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, send: MessageSend) -> Message:
        template = dict(send.template or {})
        return cls(
            send_id=send.send_id,
            type=send.type,
            title=send.title,
            content=send.content,
            link=send.link,
            template_id=send.template_id,
            template_version=int(send.template_version) if send.template_version is not None else None,
            bodies=dict(template.get("bodies") or {}),
            declared=tuple(template.get("variables") or ()),
            values=dict(send.variables or {}),
        )

    @property
    def templated(self) -> bool:
        return self.template_id is not None

    def has(self, channel: str) -> bool:
        """Whether it can go out on `channel` (a template only on the channels it has a body for)."""
        return not self.templated or channel in self.bodies

    def variable_keys(self) -> list[str]:
        return [*(str(v["key"]) for v in self.declared), *RECIPIENT_VARIABLES]

    def required(self) -> list[str]:
        return [str(v["key"]) for v in self.declared if v.get("required")]

    def _render(self, source: str, recipient: Recipient, *, part: str, kind: rendering.Kind) -> str:
        context = {**self.values, "recipient": recipient.variables()}
        return rendering.render(
            source,
            context,
            field=f"template.{part}",
            kind=kind,
            required=self.required(),
            variables=self.variable_keys(),
            key=f"message-template:{self.template_id}:{self.template_version}:{part}",
        )

    def _part(self, channel: str, name: str, recipient: Recipient, kind: rendering.Kind) -> str:
        source = str((self.bodies.get(channel) or {}).get(name) or "")
        return self._render(source, recipient, part=f"{channel}.{name}", kind=kind) if source else ""

    # -- per channel ---------------------------------------------------------------------------------
    def in_app(self, recipient: Recipient) -> tuple[str, str]:
        """Title and content of the inbox message."""
        if not self.templated:
            return self.title, self.content or ""
        return self._part("in_app", "title", recipient, "subject"), self._part("in_app", "content", recipient, "text")

    def email(self, recipient: Recipient) -> tuple[str, str, str]:
        """Subject, HTML and text of the mail."""
        if not self.templated:
            text = self.content or ""
            paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p)
            return self.title, f"<h2>{html.escape(self.title)}</h2>{paragraphs}", f"{self.title}\n\n{text}".strip()
        return (
            self._part("email", "subject", recipient, "subject"),
            self._part("email", "html", recipient, "html"),
            self._part("email", "text", recipient, "text"),
        )

    def sms(self, recipient: Recipient) -> str:
        if not self.templated:
            text = f"{self.title}: {self.content}" if self.content else self.title
        else:
            text = self._part("sms", "text", recipient, "text")
        return text[:SMS_MAX_CHARACTERS]

    def webhook(self, recipient: Recipient) -> tuple[str, bytes]:
        """Content type and body of the webhook request."""
        if not self.templated:
            payload = {
                "event": "message",
                "send_id": self.send_id,
                "type": self.type,
                "title": self.title,
                "content": self.content,
                "link": self.link,
                "recipient": recipient.variables(),
            }
            return "application/json", json.dumps(payload, ensure_ascii=False).encode()
        body = dict(self.bodies.get("webhook") or {})
        if body.get("format") == "text":
            text = self._render(str(body.get("text") or ""), recipient, part="webhook.text", kind="text")
            return "text/plain; charset=utf-8", text.encode()
        rendered = self._json(body.get("payload"), recipient, "webhook.payload")
        return "application/json", json.dumps(rendered, ensure_ascii=False).encode()

    def _json(self, value: Any, recipient: Recipient, path: str) -> Any:
        """A JSON template: every string in it rendered as text, so the result stays valid JSON."""
        if isinstance(value, str):
            return self._render(value, recipient, part=path, kind="text") if "{{" in value else value
        if isinstance(value, list):
            return [self._json(v, recipient, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            return {k: self._json(v, recipient, f"{path}.{k}") for k, v in value.items()}
        return value

    def check(self, channels: Iterable[str]) -> None:
        """Render every part of `channels` once for a probe recipient: ValidationError naming what cannot be."""
        problems: list[FieldProblem] = []
        missing = [k for k in self.required() if _absent(self.values, k)]
        problems.extend(FieldProblem(f"variables.{k}", "a required variable of the template") for k in missing)
        if problems:
            raise ValidationError("the message cannot be rendered", errors=problems)
        for channel in channels:
            try:
                {"in_app": self.in_app, "email": self.email, "sms": self.sms, "webhook": self.webhook}[channel](PROBE)
            except ValidationError as error:
                problems.extend(error.errors)
        if problems:
            raise ValidationError("the message cannot be rendered", errors=problems)


def _absent(values: Mapping[str, Any], path: str) -> bool:
    value: Any = values
    for segment in path.split("."):
        value = value.get(segment) if isinstance(value, Mapping) else None
    return value is None or value == ""


def check_bodies(bodies: Mapping[str, Any], variables: Iterable[str]) -> list[FieldProblem]:
    """Everything wrong with a template's bodies before it is saved (syntax with line and column, unknown
    variables and filters), each problem naming ``bodies.<channel>.<part>``."""
    known = [*variables, *RECIPIENT_VARIABLES]
    problems: list[FieldProblem] = []
    for channel, parts in TEXT_PARTS.items():
        body = bodies.get(channel)
        if body is None:
            continue
        for name, kind in parts:
            source = str(body.get(name) or "")
            problems.extend(rendering.check(source, field=f"bodies.{channel}.{name}", kind=kind, variables=known))
    webhook = bodies.get("webhook")
    if webhook is not None:
        if webhook.get("format") == "text":
            source = str(webhook.get("text") or "")
            problems.extend(rendering.check(source, field="bodies.webhook.text", kind="text", variables=known))
        else:
            problems.extend(_check_json(webhook.get("payload"), "bodies.webhook.payload", known))
    return problems


def _check_json(value: Any, path: str, known: list[str]) -> list[FieldProblem]:
    if isinstance(value, str):
        return rendering.check(value, field=path, kind="text", variables=known)
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _check_json(v, f"{path}[{i}]", known)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _check_json(v, f"{path}.{k}", known)]
    return []
