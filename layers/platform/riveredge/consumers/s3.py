"""S3 notification consumers: one handler per object, in the tenant its key starts with.

    from riveredge.consumers import Delivery, s3

    @s3.consumer()
    def lambda_handler(stored: s3.StoredObject, delivery: Delivery) -> None: ...

Object keys start with the tenant id (``<tenant_id>/imports/...``, as every
function that writes to a bucket builds them). An object is handled once per
bucket, key and version (or sequencer, in an unversioned bucket). A key with no
known tenant is refused (dead-letter queue, with the reason); a failure raises,
so Lambda retries the asynchronous invocation and then dead-letters it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import unquote_plus

from riveredge.consumers.delivery import Delivery, Refused, handle, refuse, tenant_of
from riveredge.observability import logger


@dataclass(frozen=True)
class StoredObject:
    """What a notification says about one object."""

    bucket: str
    key: str
    size: int
    etag: str | None
    version_id: str | None
    event_name: str  # ObjectCreated:Put, ObjectRemoved:Delete...

    @property
    def tenant_id(self) -> str:
        return self.key.split("/", 1)[0]


def _stored(record: dict[str, Any]) -> StoredObject:
    s3 = record.get("s3") or {}
    found = s3.get("object") or {}
    return StoredObject(
        bucket=str((s3.get("bucket") or {}).get("name", "")),
        key=unquote_plus(str(found.get("key", ""))),
        size=int(found.get("size") or 0),
        etag=found.get("eTag"),
        version_id=found.get("versionId"),
        event_name=str(record.get("eventName", "")),
    )


class Consumer:
    """The Lambda handler of a bucket's notifications."""

    def __init__(self, handler: Callable[[StoredObject, Delivery], Any]) -> None:
        self.handler = handler
        self._entry = logger.inject_lambda_context(clear_state=True)(self._handle)

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        self._entry(event, context)

    def _handle(self, event: dict[str, Any], context: Any) -> None:
        for record in event.get("Records") or []:
            stored = _stored(record)
            found = (record.get("s3") or {}).get("object") or {}
            version = stored.version_id or found.get("sequencer") or stored.etag or ""
            try:
                if "/" not in stored.key:
                    raise Refused(f"object {stored.key!r} is under no tenant")
                delivery = Delivery(
                    "s3",
                    f"{stored.bucket}/{stored.key}#{version}#{stored.event_name}",
                    tenant_of(stored.tenant_id),
                    kind=stored.event_name,
                )
                handle(delivery, partial(self.handler, stored, delivery), lambda_context=context)
            except Refused as refusal:
                refuse("s3", refusal.reason, record, event_id=f"{stored.bucket}/{stored.key}")


def consumer() -> Callable[[Callable[[StoredObject, Delivery], Any]], Consumer]:
    """Decorate the handler of one object; the result is the function's Lambda handler."""

    def wrap(handler: Callable[[StoredObject, Delivery], Any]) -> Consumer:
        return Consumer(handler)

    return wrap
