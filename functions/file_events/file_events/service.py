"""Settling an upload: what the bytes are, whether the file is ready or quarantined, the quota settled.

Only keys of the form ``<tenant_id>/files/<file_id>/original`` are files of the file manager. The bucket
holds other kinds of objects under the same tenant prefixes (avatars, logos, account imports, previews), and
S3 notification filters match only a key's prefix or suffix (keys start with the tenant id), so the bucket
notifies this function of the ``/original`` suffix and the consumer still skips every other key itself.

An object is handled once per key and version (riveredge.consumers.s3). A version that arrives for a file
already settled (someone POSTed again with a form still valid) is deleted: the file stays what was checked,
and links name the settled version. An object no file claims (an upload cancelled before it arrived) is
deleted too.
"""

from __future__ import annotations

import re
from typing import Any

from riveredge import files, storage
from riveredge.clock import utcnow
from riveredge.consumers import Delivery
from riveredge.consumers.s3 import StoredObject
from riveredge.errors import PreconditionFailedError
from riveredge.observability import logger

from file_events import repository, sniffing

FILE_KEY = re.compile(r"^(?P<tenant>[0-9A-HJKMNP-TV-Z]{26})/files/(?P<file>[0-9A-HJKMNP-TV-Z]{26})/original$")
ATTEMPTS = 3  # a file renamed or moved while it is settled: read it again


def handle(stored: StoredObject, delivery: Delivery) -> dict[str, Any]:
    """Settle the file an ObjectCreated event is about; answers what was done (for the logs and tests)."""
    match = FILE_KEY.fullmatch(stored.key)
    if match is None or not stored.event_name.startswith("ObjectCreated"):
        logger.info("not a file of the file manager: skipped", extra={"key": stored.key})
        return {"outcome": "skipped"}
    scope = delivery.scope
    file_id = match["file"]
    facts: repository.Read | None = None
    for _ in range(ATTEMPTS):
        item = repository.find(scope, file_id)
        if item is None:
            files.delete_version(stored.key, stored.version_id)
            logger.warning("an object no file claims: deleted", extra={"key": stored.key})
            return {"outcome": "orphan"}
        if item.status != "pending":
            if stored.version_id and item.object_version and stored.version_id != item.object_version:
                files.delete_version(stored.key, stored.version_id)
                logger.warning("another version of a settled file: deleted", extra={"file_id": file_id})
                return {"outcome": "superseded", "status": item.status}
            return {"outcome": "settled already", "status": item.status}
        if facts is None:
            facts = repository.read(stored.key, stored.version_id, sniffing.HEAD_BYTES)
        try:
            outcome = _settle(delivery, item, stored, facts)
        except PreconditionFailedError:
            continue  # renamed, moved or cancelled meanwhile
        storage.check_warning(scope)
        return outcome
    raise PreconditionFailedError(f"file {file_id} kept changing while it was settled")  # retried by Lambda


def _settle(delivery: Delivery, item: Any, stored: StoredObject, facts: repository.Read) -> dict[str, Any]:
    scope = delivery.scope
    verdict = sniffing.judge(
        name=item.name,
        declared_type=item.declared_type,
        declared_size=int(item.declared_size),
        size=facts.size,
        head=facts.head,
        blocked=frozenset(files.settings(scope).blocked_types or []),
    )
    before = item.snapshot()
    reserved = int(item.declared_size)
    item.content_type = verdict.content_type
    item.size = facts.size
    item.sha256 = facts.sha256
    size = sniffing.dimensions(verdict.content_type, facts.head)
    item.width, item.height = size if size else (None, None)
    item.status = "ready" if verdict.reason is None else "quarantined"
    item.quarantine_reason = verdict.reason
    item.object_version = stored.version_id
    item.stored_at = utcnow()
    item.upload_id = None
    item.charged = True
    item.list_in_folder(scope)
    repository.settle(scope, item, before, reserved, ready=verdict.reason is None)
    if verdict.reason:
        logger.warning("file quarantined", extra={"file_id": item.file_id, "reason": verdict.reason})
    return {"outcome": item.status, "file_id": item.file_id, "reason": verdict.reason}
