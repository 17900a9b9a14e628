"""Demo files: a small folder tree (Contracts / 2026, Brand) with a few files uploaded through the presigned
POST and settled by the S3 consumer, one of them a PNG named ``.pdf`` (quarantined, to show the reason), and
one deleted file in the recycle bin.

`make run` then shows ``GET /api/folders``, ``GET /api/files?folder_id=...`` (by name, size or date, ``q=``),
``GET /api/files?deleted=true``, ``GET /api/files/usage`` and a download link per ready file.
"""

from __future__ import annotations

import struct
import time
import zlib
from typing import TYPE_CHECKING, Any

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x16\x77\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _folder(stack: LocalStack, token: str, name: str, parent_id: str | None = None) -> str:
    body = {"name": name, "parent_id": parent_id}
    return str(expect(stack.request("POST", "/api/folders", token=token, json_body=body))["id"])


def _upload(
    stack: LocalStack, token: str, name: str, content: bytes, content_type: str, folder_id: str | None
) -> dict[str, Any]:
    import requests

    body = {"name": name, "content_type": content_type, "size": len(content), "folder_id": folder_id}
    started = expect(stack.request("POST", "/api/files/uploads", token=token, json_body=body))
    form = started["upload"]
    sent = requests.post(form["url"], data=form["fields"], files={"file": (name, content, content_type)}, timeout=30)
    if sent.status_code not in (200, 204):
        raise RuntimeError(f"demo upload refused: {sent.status_code} {sent.text[:200]}")
    return dict(started["file"])


def seed(stack: LocalStack, token: str) -> None:
    contracts = _folder(stack, token, "Contracts")
    this_year = _folder(stack, token, "2026", contracts)
    brand = _folder(stack, token, "Brand")
    rows = b"supplier,amount\nNorthwind,1200\nContoso,860\n"
    _upload(stack, token, "Payments Q1.csv", rows, "text/csv", this_year)
    _upload(stack, token, "Terms.txt", b"Payment within 30 days of invoice.\n", "text/plain", contracts)
    _upload(stack, token, "Logo.png", _png(64, 32), "image/png", brand)
    _upload(stack, token, "Not really a.pdf", _png(8, 8), "application/pdf", brand)  # quarantined: a PNG
    old = _upload(stack, token, "Old draft.txt", b"superseded\n", "text/plain", None)
    stack.settle()
    deadline = time.monotonic() + 30
    while expect(stack.request("GET", f"/api/files/{old['id']}", token=token), 200)["status"] == "pending":
        if time.monotonic() > deadline:
            raise RuntimeError("the demo upload was not settled")
        time.sleep(0.1)
    expect(stack.request("DELETE", f"/api/files/{old['id']}", token=token), 204)
