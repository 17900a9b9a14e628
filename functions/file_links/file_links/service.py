"""Preview links and share links of a tenant's files.

**Previews.** An image or PDF answers a short-lived presigned GET of the rendering the preview consumer made
(functions/file_previews; ``pending`` until it exists). Any other file answers a kkFileView link when the
tenant's file settings name a kkFileView server (riveredge.previews.kkfileview_url: the documented
``onlinePreview?url=`` contract, over a short-lived presigned GET of that one object), else "no preview".
A file that is not ``ready`` has no preview (409 naming its status).

**Share links.** A link is ``<tenant id>.<file id>.<share id>.<secret>``: the ids say where to look (one
BatchGetItem of the tenant, the file and the link), the secret (256 random bits, base64url) is what proves it;
only its SHA-256 is stored and it is compared in constant time. A link that does not parse, names no share,
or carries the wrong secret, and a deleted (revoked) link, are all the same 404, so a guess learns nothing.
For a holder of a real link, an expired or used-up link, or one whose file is no longer ``ready`` (deleted,
quarantined), is a 410. A password-protected link is opened by POSTing the password (form or JSON), never by
the GET; wrong passwords are counted per link in a window (``PASSWORD_ATTEMPTS`` per
``PASSWORD_WINDOW``), after which the link answers 429 until the window ends. Each download is taken by one
conditional UpdateItem, so concurrent downloads never exceed the limit.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from riveredge import cursors, files, mail, passwords, previews
from riveredge.actor import Actor
from riveredge.clock import as_utc, iso, new_id, utcnow
from riveredge.db.changes import expect_version
from riveredge.db.file_shares import FileShare, count_download, count_password_failure, token_digest
from riveredge.db.files import File
from riveredge.db.models import User
from riveredge.errors import (
    ConflictError,
    DomainError,
    FieldProblem,
    NotFoundError,
    ThrottledError,
    UnauthorizedError,
    ValidationError,
)
from riveredge.scope import Scope, use_scope
from riveredge.settings import get_settings

from file_links import repository
from file_links.models import CreateFileShareRequest, FilePreviewResponse, ShareState

PUBLIC_PATH = "/api/public/shares/"
DOWNLOAD_SECONDS = 60  # the presigned GET a share link redirects to
MAX_LIFETIME = timedelta(days=365)
EXPIRED_KEPT = timedelta(days=30)  # an expired link answers 410 this long, then the table's TTL removes it (404)
PASSWORD_ATTEMPTS = 5  # wrong passwords a link takes in a window before it answers 429
PASSWORD_WINDOW = timedelta(minutes=15)
SECRET_BYTES = 32
TEMPLATE = "file_share_notification"
_ID = r"[0-9A-HJKMNP-TV-Z]{26}"
_TOKEN = re.compile(rf"^({_ID})\.({_ID})\.({_ID})\.([A-Za-z0-9_-]{{43}})$")
_OBJECT_ID = re.compile(rf"^{_ID}$")
_DUMMY_DIGEST = token_digest("riveredge-share-timing-equaliser")


class GoneError(DomainError):
    """A real share link that no longer works: expired, used up, or its file is no longer available."""

    status = 410
    type = "/problems/share-gone"
    title = "The link no longer works"


class PasswordRequiredError(UnauthorizedError):
    type = "/problems/share-password-required"
    title = "The link needs its password"


class WrongPasswordError(UnauthorizedError):
    type = "/problems/share-password-wrong"
    title = "The password is not right"


def _file(scope: Scope, file_id: str) -> File:
    """The file (404 for an id that is not one of ours: never a key built from whatever a path holds)."""
    if not _OBJECT_ID.match(file_id):
        raise NotFoundError(f"no file {file_id[:64]}")
    return repository.file(scope, file_id)


def _share(scope: Scope, file_id: str, share_id: str) -> FileShare:
    _file(scope, file_id)
    if not _OBJECT_ID.match(share_id):
        raise NotFoundError(f"no share link {share_id[:64]}")
    return repository.share(scope, file_id, share_id)


# -- previews ---------------------------------------------------------------------------------------------
def _ready(item: File, doing: str) -> None:
    if item.status != "ready":
        raise ConflictError(f"the file is {item.status}: it {doing}")


def preview(actor: Actor, file_id: str) -> FilePreviewResponse:
    """What previews the file, per the module's docstring."""
    scope = actor.scope
    item = _file(scope, file_id)
    _ready(item, "has no preview")
    kind = previews.kind_of(item.content_type)
    status = item.preview_status or "pending"
    if kind is not None and status in ("pending", "ready"):
        if status == "ready" and item.preview_key:
            url = files.download_url(item.preview_key, previews.URL_SECONDS, content_type="image/png")
            return FilePreviewResponse(
                file_id=file_id, kind=kind, status="ready", url=url, expires_in=previews.URL_SECONDS
            )
        return FilePreviewResponse(file_id=file_id, kind=kind, status="pending")
    if kind is not None and status == "failed":
        return FilePreviewResponse(file_id=file_id, kind="none", status="failed", error=item.preview_error)
    base = files.settings(scope).kkfileview_base_url
    if not base:
        return FilePreviewResponse(file_id=file_id, kind="none", status="none")
    source = files.download_url(item.object_key, previews.URL_SECONDS, version_id=item.object_version)
    name = previews.kkfileview_name(item.file_id, item.name, item.sha256)
    url = previews.kkfileview_url(base, source, name)
    return FilePreviewResponse(
        file_id=file_id, kind="kkfileview", status="ready", url=url, expires_in=previews.URL_SECONDS
    )


# -- share links: the organisation's side ---------------------------------------------------------------
def state_of(share: FileShare, now: datetime) -> ShareState:
    if share.expires_at is not None and share.expires_at <= now:
        return "expired"
    if share.max_downloads is not None and int(share.downloads or 0) >= int(share.max_downloads):
        return "exhausted"
    return "active"


def public_url(token: str) -> str:
    settings = get_settings()
    return f"{(settings.api_base_url or settings.app_base_url).rstrip('/')}{PUBLIC_PATH}{token}"


def _expiry(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    moment = as_utc(value, "expires_at")
    if moment <= now:
        raise ValidationError("expires_at is not valid", errors=[FieldProblem("expires_at", "must be in the future")])
    if moment > now + MAX_LIFETIME:
        raise ValidationError(
            "expires_at is not valid", errors=[FieldProblem("expires_at", "must be at most 365 days ahead")]
        )
    return moment


def _size(size: int) -> str:
    """A size as the notification shows it (1.5 MB)."""
    if size < 1024:
        return f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _notification(
    scope: Scope, sharer: User, item: File, url: str, expires_at: datetime | None, to: list[str]
) -> list[mail.Outgoing]:
    """The file_share_notification mail of a new link, rendered and checked before the link is stored (so that
    an address the mail service refuses stores nothing): a 422 naming ``notify.<n>``."""
    context: dict[str, Any] = {
        "sender_name": sharer.name,
        "sender_email": sharer.email,
        "file_name": item.name,
        "file_size": _size(int(item.size or 0)),
        "share_url": url,
    }
    if expires_at is not None:
        context["expires_at"] = iso(expires_at)
    try:
        return mail.by_template(scope, TEMPLATE, [(to, context)])
    except ValidationError as error:
        fields = [FieldProblem(re.sub(r"^to\[(\d+)\]$", r"notify.\1", e.field), e.message) for e in error.errors]
        raise ValidationError(error.detail, errors=fields) from error


@dataclass(frozen=True)
class NewShare:
    share: FileShare
    token: str
    url: str


def create_share(actor: Actor, file_id: str, body: CreateFileShareRequest) -> NewShare:
    """Make a share link of a ready file (and mail it to `notify`); the token is answered this once only."""
    scope, now = actor.scope, utcnow()
    item = _file(scope, file_id)
    _ready(item, "cannot be shared")
    expires_at = _expiry(body.expires_at, now)
    sharer = repository.user(scope, actor.user_id) if body.notify else None
    if body.notify and sharer is None:
        raise NotFoundError("the sharer's account no longer exists")
    share_id, secret = new_id(), secrets.token_urlsafe(SECRET_BYTES)
    token = f"{scope.tenant_id}.{file_id}.{share_id}.{secret}"
    share = FileShare.new(
        scope,
        file_id,
        share_id,
        token_digest=token_digest(secret),
        password_hash=passwords.hash_password(body.password) if body.password else None,
        expires_at=expires_at,
        max_downloads=body.max_downloads,
        notified=set(body.notify) or None,
        created_by=actor.user_id,
        ttl=expires_at + EXPIRED_KEPT if expires_at is not None else None,
    )
    url = public_url(token)
    messages = _notification(scope, sharer, item, url, expires_at, body.notify) if sharer is not None else []
    repository.create(actor, share, {"file_id": file_id, "share_id": share_id, "notified": len(body.notify)})
    if messages:
        mail.queue(scope, messages)
    return NewShare(share, token, url)


def shares(actor: Actor, file_id: str, limit: int, cursor: str | None) -> tuple[list[FileShare], str | None]:
    scope = actor.scope
    _file(scope, file_id)
    fingerprint = cursors.fingerprint({"route": "file-shares", "file_id": file_id})
    found, last = repository.shares_page(scope, file_id, limit, cursors.decode(scope, fingerprint, cursor))
    return found, cursors.encode(scope, fingerprint, last)


def share(actor: Actor, file_id: str, share_id: str) -> FileShare:
    return _share(actor.scope, file_id, share_id)


def delete_share(actor: Actor, file_id: str, share_id: str, version: int | None) -> None:
    """Revoke a link: it is deleted, and answers 404 like a link that never was."""
    found = share(actor, file_id, share_id)
    expect_version(found, version)
    repository.delete(actor, found)


# -- share links: the public side --------------------------------------------------------------------------
@dataclass(frozen=True)
class Download:
    url: str
    expires_in: int


def _unknown() -> NotFoundError:
    return NotFoundError("no such share link")


def _parse(token: str) -> tuple[Scope, str, str, str]:
    """The tenant's scope, file id, share id and secret a token names (404 for one that does not parse)."""
    found = _TOKEN.match(token)
    if found is None:
        raise _unknown()
    tenant_id, file_id, share_id, secret = found.groups()
    return Scope(tenant_id), file_id, share_id, secret


def _load(scope: Scope, file_id: str, share_id: str, secret: str) -> tuple[File, FileShare]:
    """The file and link a token stands for, checked: 404 for anything a guess could be (run in `scope`)."""
    tenant, item, share = repository.link_parts(scope, file_id, share_id)
    digest = share.token_digest if share is not None else _DUMMY_DIGEST
    if not hmac.compare_digest(digest, token_digest(secret)) or share is None or item is None:
        raise _unknown()
    if tenant is None or tenant.status != "active":
        raise _unknown()
    return item, share


def _deliverable(item: File, share: FileShare, now: datetime) -> None:
    state = state_of(share, now)
    if state == "expired":
        raise GoneError("the link has expired")
    if state == "exhausted":
        raise GoneError("the link's downloads are used up")
    if item.status != "ready":
        raise GoneError("the file is no longer available")


def _download(item: File, share: FileShare, now: datetime) -> Download:
    """Take one download of a link checked deliverable, and answer the presigned GET it redirects to."""
    if count_download(share, now) is None:  # taken meanwhile: say why, as of now
        again = repository.reread(share)
        if again is None or again.token_digest != share.token_digest:
            raise _unknown()
        _deliverable(item, again, now)
        raise GoneError("the link's downloads are used up")
    url = files.download_url(
        item.object_key, DOWNLOAD_SECONDS, item.name, content_type=item.content_type, version_id=item.object_version
    )
    return Download(url, DOWNLOAD_SECONDS)


def open_link(token: str) -> Download:
    """The GET of a link: a presigned GET of its file, unless the link needs its password (401)."""
    scope, file_id, share_id, secret = _parse(token)
    with use_scope(scope):
        item, share = _load(scope, file_id, share_id, secret)
        now = utcnow()
        _deliverable(item, share, now)
        if share.password_hash is not None:
            raise PasswordRequiredError("this link needs its password: POST it (form or JSON field 'password')")
        return _download(item, share, now)


def open_with_password(token: str, password: str | None) -> Download:
    """The POST of a link with its password (throttled per link against guessing)."""
    scope, file_id, share_id, secret = _parse(token)
    with use_scope(scope):
        item, share = _load(scope, file_id, share_id, secret)
        now = utcnow()
        _deliverable(item, share, now)
        if share.password_hash is not None:
            _check_password(share, password, now)
        return _download(item, share, now)


def _check_password(share: FileShare, password: str | None, now: datetime) -> None:
    started = share.password_window_started
    throttled = int(share.password_failures or 0) >= PASSWORD_ATTEMPTS
    if started is not None and started > now - PASSWORD_WINDOW and throttled:
        retry = max(1, int((started + PASSWORD_WINDOW - now).total_seconds()) + 1)
        raise ThrottledError("too many wrong passwords for this link; try again later", retry_after=retry)
    if not password:
        raise PasswordRequiredError("this link needs its password", errors=[FieldProblem("password", "field required")])
    if not passwords.verify_password(share.password_hash, password):
        if count_password_failure(share, now, PASSWORD_WINDOW) is None:
            raise _unknown()
        raise WrongPasswordError("the password is not right", errors=[FieldProblem("password", "not right")])
