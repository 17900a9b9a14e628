"""What the consumer reads and writes: the object's bytes (S3), the file and the quota (DynamoDB)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from riveredge import aws, keys, storage
from riveredge.db.changes import System, change
from riveredge.db.files import File
from riveredge.scope import Scope
from riveredge.settings import get_settings

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Read:
    """What reading an object once told: its size, SHA-256 and first bytes."""

    size: int
    sha256: str
    head: bytes


def find(scope: Scope, file_id: str) -> File | None:
    return File.find(keys.file(scope, file_id))


def read(key: str, version_id: str | None, head_bytes: int) -> Read:
    """Stream one version of an object: hashed chunk by chunk (never whole in memory), its head kept."""
    kwargs: dict[str, Any] = {"Bucket": get_settings().files_bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    body = aws.s3().get_object(**kwargs)["Body"]
    digest, size, head = hashlib.sha256(), 0, bytearray()
    try:
        for chunk in body.iter_chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if len(head) < head_bytes:
                head += chunk[: head_bytes - len(head)]
    finally:
        body.close()
    return Read(size, digest.hexdigest(), bytes(head))


def settle(scope: Scope, item: File, before: dict[str, object], reserved: int, ready: bool) -> None:
    """The file settled (its metadata, status and listing), its reservation turned into use, and for a
    ready file the ``file.stored`` event: one transaction, on the version of the file read."""
    version = int(item.version or 0) + 1  # what the file's version is once this change lands
    with change(System(scope), "file.store", item, before=dict(before)) as c:
        c.save(item, condition=File.status == "pending", stale="the file changed while it was settled")
        storage.settle(c, storage.quota(scope), reserved, int(item.size or 0))
        if ready:
            c.publish(
                "file.stored",
                {
                    "tenant_id": scope.tenant_id,
                    "file_id": item.file_id,
                    "object_key": item.object_key,
                    "content_type": item.content_type,
                    "size": int(item.size or 0),
                    "version": version,
                },
                source="files",
            )
