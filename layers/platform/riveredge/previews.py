"""Previews of stored files: which files we render ourselves, where the renderings live, and kkFileView links.

Images (PNG, JPEG, GIF, WebP) get a thumbnail and PDFs an image of their first page, made by the preview
consumer (functions/file_previews, the only function that imports Pillow and pypdfium2) when a file is
settled ``ready`` (the ``file.stored`` event), and kept in the files bucket under
``<tenant id>/previews/<file id>/``. Everything else (office documents, archives, text...) is never opened
by us; when the tenant's file settings name a kkFileView server, the preview route hands out a kkFileView
link to a short-lived presigned GET of that one object (:func:`kkfileview_url`), else "no preview".

kkFileView's contract (its ``onlinePreview`` endpoint, 3.x and later, as its usage guide and its
``WebUtils.decodeBase64String`` read it): ``{base}/onlinePreview?url=`` followed by
``encodeURIComponent(Base64.encode(fileUrl))`` -- standard Base64 (RFC 4648 section 4, with padding; its
decoder does not take the URL-safe alphabet), then percent-encoded. A URL whose path does not end in the
file's extension names the file with a last parameter ``&fullfilename=<name>``, which kkFileView reads for
the type and strips before it downloads (``WebUtils.encodeUrlFileName``), so an S3 signature still holds.
kkFileView caches conversions by that name, so the name we give is the file's id (and content digest), never
the user's name: two tenants' ``report.docx`` never share a cache entry.
"""

from __future__ import annotations

import base64
import re
from typing import Literal
from urllib.parse import quote

Kind = Literal["image", "pdf"]
PreviewStatus = Literal["pending", "ready", "none", "failed"]

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PDF_TYPE = "application/pdf"

THUMBNAIL_SIZE = 256  # an image's thumbnail fits in THUMBNAIL_SIZE x THUMBNAIL_SIZE pixels
PAGE_MAX_SIDE = 1024  # a PDF's first page is rendered with its long side this many pixels
MAX_PIXELS = 40_000_000  # an image (or a rendered page) above this many pixels is not decoded: a decompression bomb
MAX_SOURCE_BYTES = 50 * 1024 * 1024  # a file above this size is not read for a preview
URL_SECONDS = 300  # the presigned GETs the preview route hands out (the preview image, kkFileView's fetch)

_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")


def kind_of(content_type: str | None) -> Kind | None:
    """What preview we render for a file of this (sniffed) content type; None: we never open it."""
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type == PDF_TYPE:
        return "pdf"
    return None


def preview_prefix(tenant_id: str, file_id: str) -> str:
    """Where a file's renderings live in the files bucket (under the tenant's prefix, beside its files)."""
    return f"{tenant_id}/previews/{file_id}/"


def preview_key(tenant_id: str, file_id: str, kind: Kind) -> str:
    """The key of a file's preview image: the same for every rendering of it, so a rerun overwrites it."""
    return preview_prefix(tenant_id, file_id) + ("thumbnail.png" if kind == "image" else "page-1.png")


def kkfileview_name(file_id: str, name: str, sha256: str | None = None) -> str:
    """The name kkFileView is told (``fullfilename``): the file's id and content digest with the extension of
    its original name (what kkFileView picks its viewer by), so names never collide in kkFileView's cache and
    carry nothing its naive query parsing (split on ``&`` and ``=``) could misread."""
    found = _EXTENSION.search(name)
    extension = f".{found.group(1).lower()}" if found else ""
    digest = f"-{sha256[:16]}" if sha256 else ""
    return f"{file_id}{digest}{extension}"


def kkfileview_url(base_url: str, object_url: str, file_name: str) -> str:
    """The kkFileView preview link of the object at `object_url` (a presigned GET), named `file_name`."""
    source = f"{object_url}{'&' if '?' in object_url else '?'}fullfilename={file_name}"
    encoded = base64.b64encode(source.encode("utf-8")).decode("ascii")
    return f"{base_url.rstrip('/')}/onlinePreview?url={quote(encoded, safe='')}"
