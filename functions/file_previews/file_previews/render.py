"""Rendering: an image's thumbnail (Pillow) and a PDF's first page (pypdfium2), as PNG, within fixed limits.

Both libraries are imported here, on the first rendering, and by no other function. What cannot be rendered
(a decompression bomb, a broken or encrypted file) raises :class:`PreviewFailed` with a reason a person can
read: the file is then marked ``failed`` with it, never retried in a loop.

Limits: an image is decoded only when its header declares at most ``MAX_PIXELS`` pixels (checked before any
pixel is decoded; Pillow's own bomb check is set to the same number and its warning is an error), and only
in the format its sniffed type names (a PNG is never decoded as anything else). A PDF page is rendered with
its long side ``PAGE_MAX_SIDE`` pixels whatever size the page declares, so the bitmap is bounded too.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from riveredge.previews import MAX_PIXELS, PAGE_MAX_SIDE, THUMBNAIL_SIZE

_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


class PreviewFailed(Exception):
    """The file cannot be previewed; `reason` says why (stored on the file as its preview_error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Rendered:
    """A preview image: PNG bytes and its size in pixels."""

    png: bytes
    width: int
    height: int


def _png(image: Any) -> Rendered:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return Rendered(out.getvalue(), int(image.width), int(image.height))


def thumbnail(data: bytes, content_type: str) -> Rendered:
    """A thumbnail of the image in `data` (of the sniffed `content_type`) that fits THUMBNAIL_SIZE square."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    fmt = _FORMATS.get(content_type)
    if fmt is None:
        raise PreviewFailed(f"no thumbnail is made of {content_type} files")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[fmt]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise PreviewFailed(
                        f"the image is {width} x {height} pixels, above the limit of {MAX_PIXELS:,} pixels "
                        "(a decompression bomb is never decoded)"
                    )
                image.draft("RGB", (THUMBNAIL_SIZE, THUMBNAIL_SIZE))  # JPEG: decode at a reduced scale
                frame = ImageOps.exif_transpose(image)  # the first frame of an animation, upright
                if frame.mode not in ("RGB", "RGBA", "L", "LA"):
                    frame = frame.convert("RGBA")
                frame.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
                return _png(frame)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise PreviewFailed(f"the image is a decompression bomb ({error})") from error
        except UnidentifiedImageError as error:
            raise PreviewFailed(f"the file is not a readable {fmt} image") from error
        except (OSError, ValueError, SyntaxError, EOFError) as error:
            raise PreviewFailed(f"the {fmt} image could not be decoded ({error})") from error


def first_page(data: bytes) -> Rendered:
    """The first page of the PDF in `data`, its long side PAGE_MAX_SIDE pixels."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise PreviewFailed(f"the PDF could not be opened ({error})") from error
    try:
        if len(document) == 0:
            raise PreviewFailed("the PDF has no pages")
        page = document[0]
        try:
            width, height = page.get_size()
            if not (width > 0 and height > 0):
                raise PreviewFailed("the PDF's first page has no size")
            scale = PAGE_MAX_SIDE / max(width, height)  # so the bitmap is at most PAGE_MAX_SIDE square
            bitmap = page.render(scale=scale)
            try:
                return _png(bitmap.to_pil())
            finally:
                bitmap.close()
        except pdfium.PdfiumError as error:
            raise PreviewFailed(f"the PDF's first page could not be rendered ({error})") from error
        finally:
            page.close()
    finally:
        document.close()
