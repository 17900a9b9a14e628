"""Demo file links: a welcome pack (a one-page PDF) uploaded through the file manager, its preview made by the
preview consumer, and a share link of it (ten downloads, thirty days) mailed to the demo admin.

`make run` then shows ``GET /api/files/{id}/preview`` (the first page as a PNG) and the link under
``GET /api/files/{id}/shares``; the link itself (``/api/public/shares/<token>``: its token is answered once and
never stored) is in the notification mail, which the local stack's mail view shows.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

NAME = "Welcome pack.pdf"
SETTLE_SECONDS = 30.0


def _welcome_pack() -> bytes:
    """A one-page A5 PDF, written by hand: a band of colour and nothing else (no font needed)."""
    content = b"0.12 0.43 0.75 rg 0 480 420 115 re f 0.95 0.6 0.1 rg 36 36 348 24 re f"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595] /Contents 4 0 R >>",
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


def seed(stack: LocalStack, token: str) -> None:
    import requests

    pack = _welcome_pack()
    body = {"name": NAME, "content_type": "application/pdf", "size": len(pack)}
    started = expect(stack.request("POST", "/api/files/uploads", token=token, json_body=body))
    form = started["upload"]
    sent = requests.post(form["url"], data=form["fields"], files={"file": (NAME, pack, "application/pdf")}, timeout=30)
    if sent.status_code not in (200, 204):
        raise RuntimeError(f"demo upload refused: {sent.status_code} {sent.text[:200]}")
    file_id = started["file"]["id"]
    deadline = time.monotonic() + SETTLE_SECONDS
    while expect(stack.request("GET", f"/api/files/{file_id}", token=token), 200)["status"] == "pending":
        if time.monotonic() > deadline:  # the S3 consumer settles it (S3 notifications run on their own thread)
            raise RuntimeError(f"the demo upload was not settled within {SETTLE_SECONDS} s")
        time.sleep(0.05)
    stack.settle()  # and the preview consumer renders its first page from its file.stored event
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    me = expect(stack.request("GET", "/api/auth/me", token=token), 200)
    share = {"max_downloads": 10, "expires_at": expires, "notify": [me["user"]["email"]]}
    expect(stack.request("POST", f"/api/files/{file_id}/shares", token=token, json_body=share))
