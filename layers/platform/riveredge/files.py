"""The files bucket as the routes that take uploads use it: presigned POSTs, what an upload left, presigned GETs.

A browser uploads straight to S3 with a presigned POST whose policy fixes the key, the content type and
the size range; the route that then adopts the object (an avatar, a logo, an import) checks with
:func:`stored_object` that something of that type and size is really there. Links are signed locally.

Large files go up as a multipart upload (:func:`start_multipart`, one presigned :func:`part_url` per part,
:func:`complete_multipart` / :func:`abort_multipart`). A file of the file manager is soft-deleted by a delete
marker (:func:`hide_object`): its bytes become a noncurrent version, which the bucket's lifecycle rule expires
after the retention period, and :func:`unhide_object` brings them back before that. :func:`settings` answers
a tenant's file settings (riveredge.db.files.FileSettings, or the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from riveredge import aws
from riveredge.settings import get_settings

if TYPE_CHECKING:
    from riveredge.db.files import FileSettings
    from riveredge.scope import Scope


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


def download_url(
    key: str,
    expires_in: int,
    filename: str | None = None,
    *,
    content_type: str | None = None,
    version_id: str | None = None,
) -> str:
    """A presigned GET of `key` in the files bucket (signed locally: no request is made).

    With `filename` the response carries ``Content-Disposition: attachment`` naming it (RFC 6266, with the
    RFC 5987 ``filename*`` for names beyond ASCII); with `content_type` its ``Content-Type`` is that one; with
    `version_id` it is that version of the object (a file's settled bytes, whatever was put on top later).
    """
    params: dict[str, Any] = {"Bucket": get_settings().files_bucket, "Key": key}
    if version_id is not None:
        params["VersionId"] = version_id
    if filename is not None:
        params["ResponseContentDisposition"] = content_disposition(filename)
    if content_type is not None:
        params["ResponseContentType"] = content_type
    return aws.s3().generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`` (RFC 6266 / 5987).

    The fallback keeps the ASCII letters of the name (accents dropped, quotes, backslashes and control
    characters replaced), for the clients that do not read ``filename*``.
    """
    import unicodedata  # only for a download's name: not at the cold start of every function using this module

    decomposed = unicodedata.normalize("NFKD", filename)
    ascii_name = "".join(
        "_" if c in {'"', "\\"} or ord(c) < 0x20 or ord(c) == 0x7F else c for c in decomposed if ord(c) < 0x80
    ).strip()
    fallback = ascii_name if ascii_name.strip("._ ") else "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def start_multipart(key: str, content_type: str) -> str:
    """Start a multipart upload of `key` in the files bucket; answers its upload id."""
    created = aws.s3().create_multipart_upload(Bucket=get_settings().files_bucket, Key=key, ContentType=content_type)
    return str(created["UploadId"])


def part_url(key: str, upload_id: str, part_number: int, expires_in: int) -> str:
    """A presigned PUT of one part of a multipart upload (signed locally)."""
    return aws.s3().generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": get_settings().files_bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": part_number,
        },
        ExpiresIn=expires_in,
    )


@dataclass(frozen=True)
class UploadedPart:
    part_number: int
    etag: str
    size: int


def uploaded_parts(key: str, upload_id: str) -> list[UploadedPart] | None:
    """The parts S3 holds of a multipart upload (None: no such upload, e.g. completed or aborted)."""
    found: list[UploadedPart] = []
    marker = 0
    while True:
        try:
            page = aws.s3().list_parts(
                Bucket=get_settings().files_bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchUpload", "404", "NotFound"}:
                return None
            raise
        for part in page.get("Parts") or []:
            found.append(UploadedPart(int(part["PartNumber"]), str(part["ETag"]), int(part.get("Size", 0))))
        if not page.get("IsTruncated"):
            return found
        marker = int(page.get("NextPartNumberMarker") or 0)


def complete_multipart(key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
    """Complete a multipart upload from its parts' numbers and ETags (S3 checks them)."""
    aws.s3().complete_multipart_upload(
        Bucket=get_settings().files_bucket,
        Key=key,
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
    )


def abort_multipart(key: str, upload_id: str) -> None:
    """Abort a multipart upload (its parts are discarded); one that is gone already is fine."""
    try:
        aws.s3().abort_multipart_upload(Bucket=get_settings().files_bucket, Key=key, UploadId=upload_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in {"NoSuchUpload", "404", "NotFound"}:
            raise


def hide_object(key: str) -> str | None:
    """Soft-delete `key`: a delete marker on top of its versions (the lifecycle rule expires them later).

    Answers the marker's version id (what :func:`unhide_object` removes); None in an unversioned bucket.
    """
    deleted = aws.s3().delete_object(Bucket=get_settings().files_bucket, Key=key)
    marker = deleted.get("VersionId")
    return str(marker) if marker else None


def unhide_object(key: str, marker: str) -> None:
    """Undo :func:`hide_object`: remove its delete marker, so the version beneath is current again."""
    aws.s3().delete_object(Bucket=get_settings().files_bucket, Key=key, VersionId=marker)


def delete_version(key: str, version_id: str | None) -> None:
    """Delete one version of `key` for good (an object nothing refers to)."""
    kwargs: dict[str, Any] = {"Bucket": get_settings().files_bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    aws.s3().delete_object(**kwargs)


def settings(scope: Scope) -> FileSettings:
    """`scope`'s file settings: the stored item, or the defaults (version 0) for a tenant that saved none."""
    from riveredge import keys
    from riveredge.db.files import FileSettings

    return FileSettings.find(keys.file_settings(scope)) or FileSettings.defaults(scope)
