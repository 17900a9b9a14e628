"""Outbound mail leaves through a queue: :func:`send_by_template` and :func:`send_raw` record and enqueue.

No request or job talks to SES. Each message gets a delivery record in its
tenant (``queued``; the mailer function makes it ``sent`` with SES's message
id, ``failed`` with the error, or ``suppressed``; SES's bounce, complaint and
delivery events move it on, each step in the record's status history), and
goes to the mail queue with its tenant and the correlation id of the request
that caused it. The mailer builds the MIME message (riveredge.mime), sends it
at the account's SES rate and retries throttling (functions/mailer).

What a producer hands over is checked here, before anything is stored: at most
:data:`MAX_RECIPIENTS` addresses, each a valid address SES can take; no CR or
LF in the subject, an address or a file name (a header injection); attachments
are objects of the tenant in the files bucket (key under ``<tenant id>/``) and
travel as references, so the queued message stays under SQS's size. A bad
message is a ValidationError naming the field, and nothing is queued or stored.

The sender is the tenant's (its ``email`` message config: a verified SES
identity, checked when the config is saved with :func:`check_sender`), else
the platform's (``MAIL_FROM``). Mail of the categories in
:data:`UNSUBSCRIBABLE` carries ``List-Unsubscribe`` (RFC 8058 one-click) to a
signed link that suppresses that category for the address (riveredge.unsubscribe);
``auth`` mail (activation, password reset, sign-in alerts) is transactional and
goes out whatever the address unsubscribed from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import Field

from riveredge import aws, mail_templates
from riveredge.clock import iso, new_id, utcnow
from riveredge.db.models import MailDelivery
from riveredge.emails import Email, normalise_email
from riveredge.errors import FieldProblem, ValidationError
from riveredge.mail_templates import CATEGORIES
from riveredge.observability import correlation_id
from riveredge.schemas import RequestModel
from riveredge.scope import Scope
from riveredge.settings import get_settings

MAX_MESSAGE_BYTES = 240_000  # SQS takes 256 KiB a message (and a batch), attributes included
BATCH = 10  # SQS's SendMessageBatch limit
MAX_RECIPIENTS = 50  # SES's limit of recipients of one message
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # all attachments of one message together (SES takes 40 MB encoded)
MAX_SUBJECT = 998  # RFC 5322's line length
MAX_NAME = 100
RETENTION = timedelta(days=400)  # a delivery record's TTL: the mail log goes back this far
UNSUBSCRIBABLE = frozenset(CATEGORIES) - {"auth"}  # carry List-Unsubscribe: all but the transactional auth mail
KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$")
LINE_BREAK = re.compile(r"[\r\n\x00]")


@dataclass(frozen=True)
class Attachment:
    """An object of the tenant in the files bucket (its key starts with ``<tenant id>/``), sent as a file."""

    key: str
    filename: str
    content_type: str


class SenderConfig(RequestModel):
    """The ``email`` channel's config of a tenant: who its mail is from (a verified SES identity)."""

    from_email: Email
    from_name: str | None = Field(None, min_length=1, max_length=MAX_NAME, pattern=r"^[^\r\n\x00]*$")
    reply_to: Email | None = None


@dataclass(frozen=True)
class Sender:
    """Who a tenant's mail is from, and where replies go."""

    from_email: str
    from_name: str | None = None
    reply_to: str | None = None
    own: bool = False  # the tenant's own identity (False: the platform's)

    def formatted(self) -> str:
        from email.headerregistry import Address

        return str(Address(self.from_name or "", addr_spec=self.from_email))


def check_sender(config: SenderConfig) -> None:
    """ValidationError naming ``config.from_email`` unless it is a verified SES identity of this account.

    The address itself, or its domain, must be an identity verified for sending (sesv2 GetEmailIdentity).
    """
    from botocore.exceptions import ClientError

    address = config.from_email
    for identity in (address, address.rsplit("@", 1)[-1]):
        try:
            found = aws.sesv2().get_email_identity(EmailIdentity=identity)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NotFoundException", "NotFound"}:
                continue
            raise
        if found.get("VerifiedForSendingStatus"):
            return
    problem = f"{address} is not an SES identity verified for sending (neither the address nor its domain)"
    raise ValidationError(problem, errors=[FieldProblem("config.from_email", problem)])


def sender(scope: Scope) -> Sender:
    """The tenant's sender (its enabled ``email`` message config), else the platform default."""
    from riveredge import keys
    from riveredge.db.config import MessageConfig

    settings = get_settings()
    default = Sender(settings.mail_from, settings.mail_from_name or None)
    if scope.is_platform:
        return default
    item = MessageConfig.find(keys.message_config(Scope(scope.tenant_id), "email"), consistent=False)
    config = dict(item.config or {}) if item is not None else {}
    if item is None or not item.enabled or not config.get("from_email"):
        return default
    return Sender(
        str(config["from_email"]),
        str(config["from_name"]) if config.get("from_name") else None,
        str(config["reply_to"]) if config.get("reply_to") else None,
        own=True,
    )


@dataclass(frozen=True)
class Outgoing:
    """One checked message, ready to be recorded and queued."""

    to: tuple[str, ...]
    subject: str
    html: str
    text: str
    kind: str
    category: str
    test: bool = False
    reply_to: str | None = None
    attachments: tuple[Attachment, ...] = ()
    template_code: str | None = None
    template_id: str | None = None
    template_version: int | None = None
    language: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


def send_by_template(
    scope: Scope,
    code: str,
    to: Sequence[str],
    context: Mapping[str, Any],
    language: str | None = None,
    *,
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
    test: bool = False,
) -> str:
    """Render the tenant's template of `code` (riveredge.mail_templates.store.compose) and queue it.

    Answers the delivery id. NotFoundError for an unknown code or no active template; ValidationError for
    a missing variable, a bad address, too many recipients or a header injection.
    """
    return send_many_by_template(
        scope, code, [(to, context)], language, attachments=attachments, reply_to=reply_to, test=test
    )[0]


def send_many_by_template(
    scope: Scope,
    code: str,
    sends: Sequence[tuple[Sequence[str], Mapping[str, Any]]],
    language: str | None = None,
    *,
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
    test: bool = False,
) -> list[str]:
    """One message of `code` per (recipients, context), rendered and checked first, queued together."""
    messages = by_template(scope, code, sends, language, attachments=attachments, reply_to=reply_to, test=test)
    return queue(scope, messages)


def by_template(
    scope: Scope,
    code: str,
    sends: Sequence[tuple[Sequence[str], Mapping[str, Any]]],
    language: str | None = None,
    *,
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
    test: bool = False,
) -> list[Outgoing]:
    """The messages :func:`send_many_by_template` queues, rendered and checked, not queued yet: a caller whose
    change must not be stored when its mail would be refused builds them first, then queues them (:func:`queue`)."""
    from riveredge.mail_templates.store import compose

    messages = []
    for recipients, context in sends:
        composed = compose(scope, code, context, language)
        messages.append(
            checked(
                scope,
                recipients,
                composed.subject,
                composed.html,
                composed.text,
                kind=code,
                category=composed.category,
                attachments=attachments,
                reply_to=reply_to,
                test=test,
                template_code=code,
                template_id=composed.template_id,
                template_version=composed.version,
                language=composed.language,
            )
        )
    return messages


def send_raw(
    scope: Scope,
    to: Sequence[str],
    subject: str,
    html: str,
    text: str,
    *,
    kind: str,
    category: str = "notification",
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
    test: bool = False,
    template_id: str | None = None,
    template_version: int | None = None,
    template_code: str | None = None,
    language: str | None = None,
) -> str:
    """Queue a message the caller rendered itself; answers its delivery id.

    `kind` says what sent it (a template code, ``message``, ...): it is the delivery log's template code
    when the message came from a template (`template_id`, or `kind` is a template type's code) unless
    `template_code` says otherwise.
    """
    if template_code is None and (template_id is not None or mail_templates.get(kind) is not None):
        template_code = kind
    message = checked(
        scope,
        to,
        subject,
        html,
        text,
        kind=kind,
        category=category,
        attachments=attachments,
        reply_to=reply_to,
        test=test,
        template_code=template_code,
        template_id=template_id,
        template_version=template_version,
        language=language,
    )
    return queue(scope, [message])[0]


def checked(
    scope: Scope,
    to: Sequence[str],
    subject: str,
    html: str,
    text: str,
    *,
    kind: str,
    category: str,
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
    test: bool = False,
    template_code: str | None = None,
    template_id: str | None = None,
    template_version: int | None = None,
    language: str | None = None,
) -> Outgoing:
    """The message, every header checked; ValidationError naming each field that is wrong."""
    problems: list[FieldProblem] = []
    recipients = _recipients(to, problems)
    if not subject or not subject.strip():
        problems.append(FieldProblem("subject", "must not be empty"))
    elif LINE_BREAK.search(subject):
        problems.append(FieldProblem("subject", "must not contain CR, LF or NUL (a header injection)"))
    elif len(subject) > MAX_SUBJECT:
        problems.append(FieldProblem("subject", f"must be at most {MAX_SUBJECT} characters"))
    if not KIND.match(kind):
        problems.append(FieldProblem("kind", "must be a lower-case code of at most 64 characters"))
    if category not in CATEGORIES:
        problems.append(FieldProblem("category", f"must be one of {', '.join(CATEGORIES)}"))
    if not (html or "").strip() and not (text or "").strip():
        problems.append(FieldProblem("text", "a message needs a text or an HTML body"))
    replies = _address(reply_to, "reply_to", problems) if reply_to is not None else None
    files = _attachments(scope, attachments, problems)
    if problems:
        raise ValidationError("the message cannot be sent: " + "; ".join(_said(p) for p in problems), errors=problems)
    return Outgoing(
        recipients,
        subject.strip(),
        html or "",
        text or "",
        kind,
        category,
        test,
        replies,
        files,
        template_code,
        template_id,
        template_version,
        language,
    )


def _said(problem: FieldProblem) -> str:
    return f"{problem.field}: {problem.message}"


def _recipients(to: Sequence[str], problems: list[FieldProblem]) -> tuple[str, ...]:
    if isinstance(to, str):
        to = [to]
    if not to:
        problems.append(FieldProblem("to", "at least one recipient is required"))
        return ()
    if len(to) > MAX_RECIPIENTS:  # before looking at each: 100,000 addresses are refused at once
        problems.append(FieldProblem("to", f"at most {MAX_RECIPIENTS} recipients a message, not {len(to)}"))
        return ()
    found: list[str] = []
    for n, value in enumerate(to):
        address = _address(value, f"to[{n}]", problems)
        if address is not None and address not in found:
            found.append(address)
    return tuple(found)


def _address(value: Any, name: str, problems: list[FieldProblem]) -> str | None:
    """`value` as an address SES takes (ASCII local part, IDNA domain), or None with a problem."""
    if not isinstance(value, str) or not value:
        problems.append(FieldProblem(name, "must be an email address"))
        return None
    if LINE_BREAK.search(value):
        problems.append(FieldProblem(name, "must not contain CR, LF or NUL (a header injection)"))
        return None
    try:
        address = normalise_email(value)
    except ValueError as error:
        problems.append(FieldProblem(name, str(error)))
        return None
    local, domain = address.rsplit("@", 1)
    if not local.isascii():
        problems.append(FieldProblem(name, "SES takes addresses whose part before the @ is ASCII only"))
        return None
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        problems.append(FieldProblem(name, "the domain cannot be written in ASCII (IDNA)"))
        return None


def _attachments(
    scope: Scope, attachments: Sequence[Attachment], problems: list[FieldProblem]
) -> tuple[Attachment, ...]:
    if len(attachments) > MAX_ATTACHMENTS:
        problems.append(FieldProblem("attachments", f"at most {MAX_ATTACHMENTS} attachments a message"))
        return ()
    prefix = f"{scope.tenant_id}/"
    total = 0
    for n, item in enumerate(attachments):
        where = f"attachments[{n}]"
        if not item.key.startswith(prefix) or ".." in item.key.split("/") or LINE_BREAK.search(item.key):
            problems.append(FieldProblem(f"{where}.key", "must be a file of your organisation (under its folder)"))
            continue
        if not item.filename.strip() or LINE_BREAK.search(item.filename) or len(item.filename) > 255:
            problems.append(FieldProblem(f"{where}.filename", "must be one line of at most 255 characters"))
        if not CONTENT_TYPE.match(item.content_type):
            problems.append(FieldProblem(f"{where}.content_type", "must be a media type (type/subtype)"))
        from riveredge.files import stored_object

        stored = stored_object(item.key)
        if stored is None:
            problems.append(FieldProblem(f"{where}.key", "no such file"))
            continue
        total += stored.size
    if total > MAX_ATTACHMENT_BYTES:
        problems.append(FieldProblem("attachments", f"together at most {MAX_ATTACHMENT_BYTES} bytes, not {total}"))
    return tuple(attachments)


def _body(message: Outgoing, delivery_id: str, who: Sender) -> str:
    payload = {
        "delivery_id": delivery_id,
        "to": list(message.to),
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "kind": message.kind,
        "category": message.category,
        "from_email": who.from_email,
        "from_name": who.from_name,
        "reply_to": message.reply_to or who.reply_to,
        "attachments": [
            {"key": a.key, "filename": a.filename, "content_type": a.content_type} for a in message.attachments
        ],
        "test": message.test,
    }
    encoded = json.dumps(payload, ensure_ascii=False)
    if len(encoded.encode()) > MAX_MESSAGE_BYTES:
        problem = f"the message's text and HTML are larger than {MAX_MESSAGE_BYTES} bytes together"
        raise ValidationError(problem, errors=[FieldProblem("html", problem)])
    return encoded


def queue(scope: Scope, messages: Sequence[Outgoing]) -> list[str]:
    """Record and queue checked messages for `scope`'s tenant (records in batches of 25, messages of 10).

    Every message is encoded (and its size checked) before anything is stored. A message SQS does not take
    is marked failed, with the error, before this raises.
    """
    tenant = Scope(scope.tenant_id)  # records live in the tenant's own partition, even when an operator sends
    correlation = correlation_id()
    who = sender(tenant)
    ids = [new_id() for _ in messages]
    bodies = [_body(m, i, who) for m, i in zip(messages, ids, strict=True)]
    now = utcnow()
    records = [
        MailDelivery.new(
            tenant,
            delivery_id,
            kind=m.kind,
            category=m.category,
            template_code=m.template_code,
            template_id=m.template_id,
            template_version=m.template_version,
            language=m.language,
            test=m.test,
            sender=who.formatted(),
            reply_to=m.reply_to or who.reply_to,
            recipients=set(m.to),
            subject=m.subject[:MAX_SUBJECT],
            attachments=[a.filename for a in m.attachments] or None,
            status="queued",
            history=[{"status": "queued", "at": iso(now)}],
            correlation_id=correlation,
            ttl=now + RETENTION,
        )
        for m, delivery_id in zip(messages, ids, strict=True)
    ]
    with MailDelivery.batch_write() as batch:
        for record in records:
            record.stamp(now)
            batch.save(record)
    attributes = {"tenant_id": {"DataType": "String", "StringValue": tenant.tenant_id}}
    if correlation:
        attributes["correlation_id"] = {"DataType": "String", "StringValue": correlation}
    url = get_settings().mail_queue_url
    for start in range(0, len(messages), BATCH):
        entries: list[dict[str, Any]] = [
            {"Id": str(n), "MessageBody": bodies[n], "MessageAttributes": attributes}
            for n in range(start, min(start + BATCH, len(messages)))
        ]
        failed = _enqueue(url, entries)
        if failed:
            _mark_unqueued([records[int(f["Id"])] for f in failed], str(failed[0].get("Message", "")))
            raise RuntimeError(f"{len(failed)} message(s) could not be queued: {failed[0]}")
    return ids


def _enqueue(url: str, entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    try:
        response = aws.sqs().send_message_batch(QueueUrl=url, Entries=entries)  # type: ignore[arg-type]
    except Exception as error:
        return [{"Id": str(e["Id"]), "Message": str(error)} for e in entries]
    return [{"Id": str(f["Id"]), "Message": str(f.get("Message", f["Code"]))} for f in response.get("Failed", [])]


def _mark_unqueued(records: list[MailDelivery], error: str) -> None:
    at = iso(utcnow())
    for record in records:
        record.update(
            actions=[
                MailDelivery.status.set("failed"),
                MailDelivery.error.set(f"not queued: {error}"[:500]),
                MailDelivery.history.set([*(record.history or []), {"status": "failed", "at": at}]),
            ]
        )


# -- the platform's own mails (system template types of riveredge/mail_templates/system.json) -----------
ACTIVATION = "account_activation"
PASSWORD_RESET = "password_reset_link"
WELCOME = "welcome_email"
LOGIN_FAILURES = "login_failures_alert"


def activation_context(
    email: str, name: str | None, tenant_code: str, token: str, *, organisation: str | None = None, reset: bool = False
) -> dict[str, Any]:
    """The variables of an account's set-password (`reset`: reset-password) link mail."""
    from riveredge.db.accounts import ACTIVATION_DAYS

    link = activation_link(tenant_code, token)
    context: dict[str, Any] = {
        "user_email": email,
        "organisation_code": tenant_code,
        "expires_in_days": ACTIVATION_DAYS,
    }
    if name:
        context["user_name"] = name
    if reset:
        return {**context, "reset_url": link}
    if organisation:
        context["organisation_name"] = organisation
    return {**context, "activation_url": link}


def activation_link(tenant_code: str, token: str) -> str:
    """Where an invited account sets its password (the front end posts to /api/public/activate)."""
    query = urlencode({"tenant": tenant_code, "token": token})
    return f"{get_settings().app_base_url.rstrip('/')}/activate?{query}"


def sign_in_link(tenant_code: str) -> str:
    """The web app's sign-in page, with the organisation code filled in."""
    return f"{get_settings().app_base_url.rstrip('/')}/login?{urlencode({'tenant': tenant_code})}"
