"""Make a stored file's preview: a thumbnail of an image, the first page of a PDF, or nothing.

The consumer runs once per event id (riveredge.consumers); on top of that a file whose preview was already
made (or refused) is left alone, so a second event about the same file renders nothing again. The event's
tenant is the scope; its object key must be one of that tenant's files, and the file is read in that scope
only, so an event cannot make anything of another tenant's file. What cannot be previewed is recorded on the
file (``failed`` with the reason, or ``none`` for a type we never open, such as office documents and zip
archives, which kkFileView shows when the tenant has one): nothing is retried for ever. Only a fault of ours
(S3 or DynamoDB failing) raises, for the event's retries.
"""

from __future__ import annotations

from typing import Any

from riveredge import previews
from riveredge.consumers import Refused
from riveredge.db.files import File
from riveredge.errors import PreconditionFailedError
from riveredge.observability import logger
from riveredge.scope import Scope

from file_previews import render, repository
from file_previews.models import FileStored

ATTEMPTS = 3  # writes of the preview attributes, each on a fresh read (a rename meanwhile makes one stale)
SETTLED = frozenset({"ready", "none", "failed"})


def _outcome(item: File, skipped: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"file_id": item.file_id, "preview_status": item.preview_status}
    if skipped:
        answer["skipped"] = skipped
    return answer


def _skipped(event: FileStored, item: File | None, why: str | None) -> dict[str, Any]:
    return {"file_id": event.file_id, "skipped": why} if item is None else _outcome(item, why)


def _still_wanted(scope: Scope, event: FileStored) -> tuple[File | None, str | None]:
    """The file as it is now, and why nothing is to be done for it (None: a preview is wanted)."""
    item = repository.file(scope, event.file_id)
    if item is None:
        return None, "no such file"
    if item.object_key != event.object_key:
        return item, "the event is about another object of the file"
    if item.status != "ready":
        return item, f"the file is {item.status}"
    if item.preview_status in SETTLED:
        return item, "its preview was made already"
    return item, None


def _render(scope: Scope, item: File) -> tuple[str, str | None, str | None]:
    """The preview of `item`: (status, key, error); stores the image when there is one."""
    kind = previews.kind_of(item.content_type)
    if kind is None:
        return "none", None, None
    size = int(item.size or 0)
    limit = previews.MAX_SOURCE_BYTES
    if size > limit:
        return "failed", None, f"the file is {size:,} bytes; no preview is made of files above {limit:,} bytes"
    try:
        data = repository.object_bytes(item.object_key, item.object_version, limit)
    except repository.MissingObject:
        return "failed", None, "the file's stored object is missing"
    if data is None:
        return "failed", None, f"the file is above {limit:,} bytes; no preview is made"
    try:
        rendered = render.thumbnail(data, str(item.content_type)) if kind == "image" else render.first_page(data)
    except render.PreviewFailed as failure:
        logger.info("no preview", extra={"file_id": item.file_id, "reason": failure.reason})
        return "failed", None, failure.reason[:500]
    key = previews.preview_key(scope.tenant_id, item.file_id, kind)
    repository.put_preview(key, rendered.png)
    return "ready", key, None


def make_preview(scope: Scope, event: FileStored) -> dict[str, Any]:
    """Make and record the preview of the file `event` announces (see the module's docstring)."""
    if not event.object_key.startswith(f"{scope.tenant_id}/files/{event.file_id}/"):
        raise Refused("the event's object is not one of its tenant's files")
    item, skipped = _still_wanted(scope, event)
    if item is None or skipped:
        return _skipped(event, item, skipped)
    status, key, error = _render(scope, item)
    attempt = 1
    while True:
        try:
            repository.record(scope, item, status, key, error)
            return _outcome(item)
        except PreconditionFailedError:
            if attempt >= ATTEMPTS:
                raise
            attempt += 1
            item, skipped = _still_wanted(scope, event)
            if item is None or skipped:
                return _skipped(event, item, skipped)
