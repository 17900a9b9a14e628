"""What a file is, from its bytes: the media type by magic numbers, image dimensions from the header only,
and whether that contradicts what the uploader declared (its type and its name's ending).

Magic numbers come from ``filetype`` (pure Python, no data files, strict byte-signature matchers over the
first 8 KB; about 80 types: images, audio, video, archives, documents, fonts, ELF and PE programs). It is
preferred to ``puremagic`` because a wrong guess here quarantines someone's file: filetype answers only on
an exact signature, where puremagic also scores weaker, partial matches. Two programs filetype does not
know are added here (Mach-O, and scripts with a ``#!`` line). Dimensions come from ``imagesize`` (pure
Python, reads the header: PNG, JPEG, GIF, WebP, TIFF, BMP...), not Pillow, which this function does not need.
"""

from __future__ import annotations

import io
import mimetypes
import os
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

SAMPLE_BYTES = 8192  # what signatures look at
HEAD_BYTES = 256 * 1024  # what the header readers get (a JPEG's size may follow 64 KB of EXIF)
OCTET_STREAM = "application/octet-stream"


MACHO = "application/x-mach-binary"
SCRIPT = "application/x-sh"
_MACHO_MAGIC = {b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"}


@lru_cache(maxsize=1)
def _filetype() -> ModuleType:
    """filetype, with the two programs it does not know added: imported on the first event, not at cold start."""
    import filetype
    from filetype.types.base import Type

    class MachO(Type):  # type: ignore[misc]  # filetype has no type hints
        def __init__(self) -> None:
            super().__init__(mime=MACHO, extension="macho")

        def match(self, buf: bytes) -> bool:
            # 32- and 64-bit, either byte order (not 0xCAFEBABE: Java class files share the fat binary's magic)
            return bytes(buf[:4]) in _MACHO_MAGIC

    class Script(Type):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(mime=SCRIPT, extension="sh")

        def match(self, buf: bytes) -> bool:
            return bytes(buf[:2]) == b"#!"

    filetype.add_type(MachO())
    filetype.add_type(Script())
    module: ModuleType = filetype
    return module


# Media types that are one thing under several names.
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/apng": "image/png",
    "image/vnd.microsoft.icon": "image/x-icon",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "application/x-pdf": "application/pdf",
    "audio/mp3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg",
    "audio/wav": "audio/x-wav",
    "audio/flac": "audio/x-flac",
    "application/x-gzip": "application/gzip",
    "application/x-7z": "application/x-7z-compressed",
    "application/vnd.rar": "application/x-rar-compressed",
    "application/x-rar": "application/x-rar-compressed",
    "application/x-tar-gz": "application/gzip",
}
# Families whose members one signature cannot tell apart.
_FAMILIES: tuple[frozenset[str], ...] = (
    frozenset({"video/mp4", "video/x-m4v", "audio/mp4", "audio/x-m4a", "video/quicktime", "video/3gpp"}),
    frozenset({"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"}),
    frozenset({"font/ttf", "font/otf", "application/font-sfnt"}),
    frozenset({"font/woff", "font/woff2", "application/font-woff"}),
)
_ZIP = "application/zip"
# What is a zip inside (a zip signature fits any of them).
_ZIP_BASED = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/epub+zip",
        "application/java-archive",
        "application/vnd.android.package-archive",
        "application/x-google-chrome-extension",
    }
)
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-ndjson",
        "application/yaml",
        "application/x-yaml",
        "application/sql",
        "image/svg+xml",
        "application/x-sh",
    }
)


@lru_cache(maxsize=1)
def signed_types() -> frozenset[str]:
    """The types filetype recognises by signature: one of these declared without its signature is a lie."""
    return frozenset(_ALIASES.get(t.mime, t.mime) for t in _filetype().types) - {OCTET_STREAM}


def canonical(media_type: str | None) -> str | None:
    if not media_type:
        return None
    base = media_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(base, base)


def sniff(sample: bytes) -> str | None:
    """The media type the bytes' signature says, or None when none is known (text, and rarer formats)."""
    found = _filetype().guess_mime(sample[:SAMPLE_BYTES]) if sample else None
    return canonical(found)


def looks_like_text(sample: bytes) -> bool:
    """No NUL and valid UTF-8 (a character cut at the sample's end allowed)."""
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(sample) - 3 and error.reason == "unexpected end of data"
    return True


def text_like(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith(("+json", "+xml"))


def compatible(sniffed: str, declared: str) -> bool:
    """Whether bytes of the `sniffed` type may be what was declared as `declared`."""
    if declared in (OCTET_STREAM, sniffed):
        return True
    if (sniffed == _ZIP and declared in _ZIP_BASED) or (declared == _ZIP and sniffed in _ZIP_BASED):
        return True
    return any(sniffed in family and declared in family for family in _FAMILIES)


def type_of_name(name: str) -> str | None:
    """The media type a file name's ending stands for (None: no ending, or one nobody registered)."""
    extension = os.path.splitext(name)[1].lower()
    if not extension:
        return None
    guessed, _ = mimetypes.guess_type(f"file{extension}", strict=False)
    return canonical(guessed)


def dimensions(media_type: str | None, head: bytes) -> tuple[int, int] | None:
    """An image's width and height read from its header (None for anything else, or an unreadable header)."""
    if not media_type or not media_type.startswith("image/"):
        return None
    import imagesize  # it imports urllib.request: only when an image arrives, not at cold start

    try:
        width, height = imagesize.get(io.BytesIO(head))
    except Exception:  # a malformed header: an image without dimensions, not a failed event
        return None
    return (int(width), int(height)) if width > 0 and height > 0 else None


@dataclass(frozen=True)
class Verdict:
    content_type: str
    reason: str | None  # None: ready; else why the file is quarantined


def _contradiction(sniffed: str | None, declared: str, by_name: str | None) -> str | None:
    """How the content contradicts the declared type or the name's ending (None: it does not)."""
    if sniffed is not None and not compatible(sniffed, declared):
        return f"the content is {sniffed}, not the declared {declared}"
    if sniffed is None and declared in signed_types():
        return f"the content does not carry the signature of the declared {declared}"
    if by_name is None or by_name not in signed_types():
        return None
    if sniffed is None:
        return f"the name says {by_name}, but the content does not carry its signature"
    return None if compatible(sniffed, by_name) else f"the name says {by_name}, but the content is {sniffed}"


def judge(
    *,
    name: str,
    declared_type: str,
    declared_size: int,
    size: int,
    head: bytes,
    blocked: frozenset[str],
) -> Verdict:
    """The file's content type and whether it is quarantined (over its declared size, a blocked type, or a
    type that contradicts the declared one or its name's ending)."""
    declared = canonical(declared_type) or OCTET_STREAM
    sniffed = sniff(head)
    if sniffed is not None:
        content_type = sniffed
    elif declared not in signed_types() and (not text_like(declared) or looks_like_text(head[:SAMPLE_BYTES])):
        content_type = declared
    else:
        content_type = OCTET_STREAM
    if size > declared_size:
        return Verdict(content_type, f"the object holds {size} bytes, more than the {declared_size} declared")
    if sniffed is not None and sniffed in {canonical(b) for b in blocked}:
        return Verdict(content_type, f"the content is {sniffed}, a type this organisation does not accept")
    return Verdict(content_type, _contradiction(sniffed, declared, type_of_name(name)))
