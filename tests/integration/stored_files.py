"""Test helper: files uploaded through the file manager or stored directly, and the documents the tests need.

:func:`uploaded_file` goes the whole way: the upload route's presigned POST, S3, the S3 consumer
(functions/file_events: sniffed type, size, SHA-256, ready or quarantined) and its ``file.stored`` event
through the outbox, the relay and the bus rule to the preview consumer.

:func:`stored_file` plays the S3 consumer's part instead, for tests that need a file in a given state (or
deliver its event themselves, ``announce=False``): it puts the bytes in the files bucket and writes the file
item as that consumer settles one, with its ``file.stored`` event when it is ready and ``announce`` is on.
Its object's last segment is ``fixture``, not ``original``: the bucket notifies the S3 consumer of
``.../original`` keys only, which would otherwise delete an object whose file it did not settle itself.
"""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from typing import Any

import boto3
import requests
from riveredge import keys
from riveredge.clock import new_id
from riveredge.db.changes import System, change
from riveredge.db.files import File
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SETTLE_SECONDS = 30.0  # at most, for the S3 consumer to settle an upload


def stored_file(
    stack: LocalStack,
    tenant_id: str,
    content: bytes,
    content_type: str,
    name: str,
    *,
    status: str = "ready",
    announce: bool = True,
    width: int | None = None,
    height: int | None = None,
) -> File:
    scope = Scope(tenant_id)
    file_id = new_id()
    key = f"{scope.tenant_id}/files/{file_id}/fixture"
    put = boto3.client("s3").put_object(
        Bucket=stack.environment["FILES_BUCKET"], Key=key, Body=content, ContentType=content_type
    )
    item = File.new(
        scope,
        file_id,
        name=name,
        object_key=key,
        declared_type=content_type,
        declared_size=len(content),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        width=width,
        height=height,
        status=status,
        quarantine_reason="the test says so" if status == "quarantined" else None,
        object_version=put.get("VersionId"),
        created_by="test",
        charged=True,
    )
    item.list_in_folder(scope)
    with use_scope(scope), change(System(scope, "test"), "file.store", item, before=None) as c:
        c.create(item, conflict="the file exists")
        if announce and status == "ready":
            c.publish("file.stored", stored_detail(item), source="files")
    return item


def uploaded_file(stack: LocalStack, token: str, content: bytes, content_type: str, name: str) -> dict[str, Any]:
    """Upload through the file manager (presigned POST) and wait for the consumers; answers the upload's file."""
    body = {"name": name, "content_type": content_type, "size": len(content)}
    reply = stack.request("POST", "/api/files/uploads", token=token, json_body=body)
    assert reply.status == 201, reply.body
    started = reply.json()
    form = started["upload"]
    sent = requests.post(form["url"], data=form["fields"], files={"file": (name, content, content_type)}, timeout=30)
    assert sent.status_code in (200, 204), sent.text
    file_id = str(started["file"]["id"])
    deadline = time.monotonic() + SETTLE_SECONDS
    while reread(_tenant_of(started), file_id).status == "pending":  # S3 notifications run on their own thread
        if time.monotonic() > deadline:
            raise TimeoutError(f"file {file_id} was not settled within {SETTLE_SECONDS} s")
        time.sleep(0.05)
    stack.settle()  # then its file.stored event reaches the preview consumer
    return dict(started["file"])


def _tenant_of(started: dict[str, Any]) -> str:
    """The tenant of an upload, from its object key (``<tenant>/files/<file>/original``)."""
    return str(started["upload"]["key"]).split("/", 1)[0]


def stored_detail(item: File) -> dict[str, Any]:
    """The detail of the file's ``file.stored`` event (as riveredge.files' contract fixes it)."""
    return {
        "file_id": item.file_id,
        "object_key": item.object_key,
        "content_type": item.content_type,
        "size": int(item.size or 0),
        "version": int(item.version or 0),
    }


def reread(tenant_id: str, file_id: str) -> File:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return File.get_or_404(keys.file(scope, file_id))


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def jpeg(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 220)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def decompression_bomb() -> bytes:
    """A real bomb: an 8000 x 8000 one-bit PNG (64 megapixels) in about 8 KB."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, format="PNG")
    return out.getvalue()


def pdf(width: float, height: float) -> bytes:
    """A one-page PDF written by hand: a page of `width` x `height` points, white, with a blue square filling
    the lower-left quarter (so a rendering can be checked pixel by pixel)."""
    content = f"0 0 1 rg 0 0 {width / 2:.2f} {height / 2:.2f} re f".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:.2f} {height:.2f}] /Contents 4 0 R >>".encode(),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def zip_bomb() -> bytes:
    """A zip whose one member inflates 10,000-fold (100 MB of zeros from about 100 KB)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        block = bytes(1024 * 1024)
        for _ in range(100):
            member.write(block)
    return out.getvalue()
