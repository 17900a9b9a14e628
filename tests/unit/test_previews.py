"""Previews without AWS: the kkFileView link by its contract, the names it is given, the renderings' limits."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from file_previews import render
from PIL import Image
from riveredge import previews

ROOT = Path(__file__).resolve().parents[2]


def test_a_kkfileview_link_is_the_percent_encoded_standard_base64_of_the_named_url() -> None:
    # Given a presigned URL whose signature holds "+", "/" and "=" once in Base64
    url = "https://files.example/t/files/f/original?X-Amz-Signature=ab%2Bcd&X-Amz-Expires=300"
    link = previews.kkfileview_url("https://kk.example/preview/", url, "F1-0123.docx")
    # Then it is {base}/onlinePreview?url= + encodeURIComponent(Base64.encode(url + "&fullfilename=<name>"))
    prefix = "https://kk.example/preview/onlinePreview?url="
    assert link.startswith(prefix)
    encoded = link[len(prefix) :]
    assert not set(encoded) & set("+/=")  # percent-encoded, as encodeURIComponent leaves none of them
    decoded = base64.b64decode(unquote(encoded), validate=True).decode()
    assert decoded == url + "&fullfilename=F1-0123.docx"


def test_a_url_without_a_query_gets_its_name_as_the_first_parameter() -> None:
    link = previews.kkfileview_url("http://kk:8012", "http://files/x", "a.pdf")
    assert base64.b64decode(unquote(link.split("url=", 1)[1])).decode() == "http://files/x?fullfilename=a.pdf"


@pytest.mark.parametrize(
    ("name", "digest", "expected"),
    [
        ("Q3 report.DOCX", "0123456789abcdef0123", "F1-0123456789abcdef.docx"),
        ("a&b=c.xlsx", None, "F1.xlsx"),
        ("no extension", None, "F1"),
        ("../../etc/passwd", None, "F1"),
        ("weird.ext with space", None, "F1"),
    ],
)
def test_kkfileview_is_told_the_file_id_and_digest_never_the_users_name(
    name: str, digest: str | None, expected: str
) -> None:
    assert previews.kkfileview_name("F1", name, digest) == expected


def test_only_images_and_pdfs_are_rendered_by_us() -> None:
    assert [previews.kind_of(t) for t in ("image/png", "image/webp", "application/pdf")] == ["image", "image", "pdf"]
    for other in ("application/zip", "image/svg+xml", "image/tiff", "text/html", None):
        assert previews.kind_of(other) is None


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, format="PNG")
    return out.getvalue()


def test_a_thumbnail_fits_the_square_and_keeps_the_proportions() -> None:
    made = render.thumbnail(_png(1000, 250), "image/png")
    assert (made.width, made.height) == (256, 64)
    assert Image.open(io.BytesIO(made.png)).format == "PNG"


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "JPEG"])
def test_every_rendered_image_type_gets_a_png_thumbnail(fmt: str) -> None:
    out = io.BytesIO()
    frames = [Image.new("RGB", (600, 300), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(out, format=fmt, **({"save_all": True, "append_images": frames[1:]} if fmt != "JPEG" else {}))
    made = render.thumbnail(out.getvalue(), f"image/{fmt.lower()}")
    thumbnail = Image.open(io.BytesIO(made.png))
    assert (thumbnail.format, thumbnail.size) == ("PNG", (256, 128))
    pixel = thumbnail.convert("RGB").getpixel((128, 64))
    assert isinstance(pixel, tuple) and pixel[0] > 200 and pixel[2] < 60  # the first frame of an animation


def test_a_photo_is_turned_upright_by_its_exif_orientation() -> None:
    # Given a 300 x 100 JPEG whose EXIF says it is to be shown turned a quarter (orientation 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (300, 100), (10, 200, 10)).save(out, format="JPEG", exif=exif)
    # Then its thumbnail is upright: 100 x 300 scaled into the square
    made = render.thumbnail(out.getvalue(), "image/jpeg")
    assert (made.width, made.height) == (85, 256)


def test_an_image_is_decoded_only_in_the_format_its_sniffed_type_names() -> None:
    with pytest.raises(render.PreviewFailed, match="not a readable JPEG"):
        render.thumbnail(_png(10, 10), "image/jpeg")


def test_an_image_above_the_pixel_limit_is_refused_before_it_is_decoded() -> None:
    bomb = _png(8000, 8000, mode="1")  # 64 megapixels in a few KB
    with pytest.raises(render.PreviewFailed, match="decompression bomb"):
        render.thumbnail(bomb, "image/png")


def test_importing_the_consumer_does_not_load_pillow_or_pdfium() -> None:
    # A fresh interpreter: Pillow and pypdfium2 are loaded by the first rendering, not at cold start
    code = "import sys, file_previews.app; print('PIL' in sys.modules, 'pypdfium2' in sys.modules)"
    paths = f"{ROOT / 'functions' / 'file_previews'}:{ROOT / 'layers' / 'platform'}"
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path[:0] = {paths.split(':')!r}; {code}"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.stdout.strip() == "False False"
