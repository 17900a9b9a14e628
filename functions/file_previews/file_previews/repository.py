"""The preview consumer's reads and writes: the file item, its object, its preview image and their record."""

from __future__ import annotations

from botocore.exceptions import ClientError
from riveredge import aws, keys
from riveredge.db.changes import System, change
from riveredge.db.files import File
from riveredge.scope import Scope
from riveredge.settings import get_settings

AUTHOR = "file-previews"  # the author of a preview's change in the operation log
RESOURCE = "file preview"  # what the log calls it: a shape of its own beside the file's (riveredge.db.files.File)


def file(scope: Scope, file_id: str) -> File | None:
    return File.find(keys.file(scope, file_id))


class MissingObject(Exception):
    """The file's object (or its settled version) is not in the bucket."""


def object_bytes(key: str, version_id: str | None, max_bytes: int) -> bytes | None:
    """The object's bytes (that version, when the file names one), or None when it is above `max_bytes`."""
    bucket = get_settings().files_bucket
    try:
        found = (
            aws.s3().get_object(Bucket=bucket, Key=key, VersionId=version_id)
            if version_id
            else aws.s3().get_object(Bucket=bucket, Key=key)
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "NoSuchVersion", "404"}:
            raise MissingObject(key) from error
        raise
    body = found["Body"]
    try:
        if int(found.get("ContentLength", 0)) > max_bytes:
            return None
        data = body.read(max_bytes + 1)
    finally:
        body.close()
    return None if len(data) > max_bytes else bytes(data)


def put_preview(key: str, png: bytes) -> None:
    aws.s3().put_object(
        Bucket=get_settings().files_bucket,
        Key=key,
        Body=png,
        ContentType="image/png",
        CacheControl="private, max-age=300",
    )


def record(scope: Scope, item: File, status: str, key: str | None, error: str | None) -> None:
    """Write the file's preview attributes on the version read (a stale read is a 412: read it again)."""
    before = {
        "preview_status": item.preview_status,
        "preview_key": item.preview_key,
        "preview_error": item.preview_error,
    }
    item.preview_status, item.preview_key, item.preview_error = status, key, error
    after = {"preview_status": status, "preview_key": key, "preview_error": error}
    with change(System(scope, AUTHOR), "file.preview") as c:
        c.save(item, stale="the file changed while its preview was made")
        c.log("file.preview", RESOURCE, item.file_id, before=before, after=after)
