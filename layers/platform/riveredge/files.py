"""The files bucket as the routes that take uploads use it: presigned POSTs, what an upload left, presigned GETs.

A browser uploads straight to S3 with a presigned POST whose policy fixes the key, the content type and
the size range; the route that then adopts the object (an avatar, a logo, an import) checks with
:func:`stored_object` that something of that type and size is really there. Links are signed locally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from riveredge import aws
from riveredge.settings import get_settings


def presigned_upload(key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
    """A presigned POST for `key` in the files bucket: that content type only, 1 byte to `max_bytes`."""
    return aws.s3().generate_presigned_post(
        Bucket=get_settings().files_bucket,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )


@dataclass(frozen=True)
class StoredObject:
    content_type: str
    size: int


def stored_object(key: str) -> StoredObject | None:
    """What the files bucket holds under `key`, or None when it holds nothing there."""
    try:
        head = aws.s3().head_object(Bucket=get_settings().files_bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return StoredObject(str(head.get("ContentType", "")), int(head.get("ContentLength", 0)))


def download_url(key: str, expires_in: int) -> str:
    """A presigned GET of `key` in the files bucket (signed locally: no request is made)."""
    return aws.s3().generate_presigned_url(
        "get_object", Params={"Bucket": get_settings().files_bucket, "Key": key}, ExpiresIn=expires_in
    )
