"""Files without AWS: what the bytes are (sniffing and its verdicts), download names, upload names and parts,
and the template's wiring of the bucket (retention, notification filter, no circular dependency)."""

from __future__ import annotations

import json
import struct
import zlib

import pytest
from file_events import sniffing
from files.models import display_name
from files.service import MAX_PART_URLS, MIN_PART_BYTES, part_size
from riveredge.db.files import OBJECT_SUFFIX, RETENTION_DAYS
from riveredge.files import content_disposition

from local_stack.template import load


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


PNG = _png(640, 480)
GIF = b"GIF89a\x10\x00\x20\x00" + b"\x00" * 20
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57
PE = b"MZ" + b"\x00" * 62
MACHO = b"\xcf\xfa\xed\xfe" + b"\x00" * 28
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
ZIP = b"PK\x03\x04" + b"\x00" * 26
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BLOCKED = frozenset({"application/x-executable", "application/x-msdownload", "application/x-mach-binary"})


def _verdict(content: bytes, name: str, declared: str, declared_size: int | None = None) -> sniffing.Verdict:
    return sniffing.judge(
        name=name,
        declared_type=declared,
        declared_size=len(content) if declared_size is None else declared_size,
        size=len(content),
        head=content,
        blocked=BLOCKED,
    )


@pytest.mark.parametrize(
    ("content", "name", "declared", "content_type"),
    [
        (PNG, "photo.png", "image/png", "image/png"),
        (PNG, "photo.PNG", "image/x-png", "image/png"),
        (GIF, "anim.gif", "image/gif", "image/gif"),
        (PDF, "report.pdf", "application/pdf", "application/pdf"),
        (ZIP, "letter.docx", DOCX, "application/zip"),
        (ZIP, "bundle.zip", "application/x-zip-compressed", "application/zip"),
        (b"name,qty\nbolt,4\n", "stock.csv", "text/csv", "text/csv"),
        ("备注".encode() + b"\n", "notes.txt", "text/plain", "text/plain"),
        (b"\x00\x01binary", "blob.bin", "application/octet-stream", "application/octet-stream"),
        (b"\x00\x01binary", "data.txt", "text/plain", "application/octet-stream"),
        (PNG, "no-extension", "application/octet-stream", "image/png"),
    ],
)
def test_honest_files_are_ready_with_their_sniffed_type(
    content: bytes, name: str, declared: str, content_type: str
) -> None:
    assert _verdict(content, name, declared) == sniffing.Verdict(content_type, None)


@pytest.mark.parametrize(
    ("content", "name", "declared", "reason"),
    [
        (PNG, "report.pdf", "application/pdf", "the content is image/png, not the declared application/pdf"),
        (PNG, "report.pdf", "image/png", "the name says application/pdf, but the content is image/png"),
        (ELF, "cat.png", "image/png", "the content is application/x-executable, a type this organisation"),
        (PE, "invoice.pdf", "application/pdf", "the content is application/x-msdownload, a type this organisation"),
        (MACHO, "tool", "application/octet-stream", "the content is application/x-mach-binary, a type this"),
        (b"hello", "fake.pdf", "application/pdf", "the content does not carry the signature of the declared"),
        (b"hello", "fake.png", "text/plain", "the name says image/png, but the content does not carry its signature"),
    ],
)
def test_lies_and_programs_are_quarantined_with_the_reason(
    content: bytes, name: str, declared: str, reason: str
) -> None:
    verdict = _verdict(content, name, declared)
    assert verdict.reason is not None and verdict.reason.startswith(reason), verdict


def test_an_object_larger_than_declared_is_quarantined() -> None:
    verdict = _verdict(PDF, "a.pdf", "application/pdf", declared_size=len(PDF) - 1)
    assert verdict.reason == f"the object holds {len(PDF)} bytes, more than the {len(PDF) - 1} declared"


def test_dimensions_come_from_the_header_and_only_for_images() -> None:
    assert sniffing.dimensions("image/png", PNG) == (640, 480)
    assert sniffing.dimensions("image/gif", GIF) == (16, 32)
    assert sniffing.dimensions("image/png", b"\x89PNG\r\n\x1a\ngarbage") is None
    assert sniffing.dimensions("application/pdf", PDF) is None


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
        ("Résumé.docx", "attachment; filename=\"Resume.docx\"; filename*=UTF-8''R%C3%A9sum%C3%A9.docx"),
        ("报告.xlsx", "attachment; filename=\".xlsx\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.xlsx"),
        ("季度", "attachment; filename=\"download\"; filename*=UTF-8''%E5%AD%A3%E5%BA%A6"),
        (
            'say "hi"; x=1.txt',
            "attachment; filename=\"say _hi_; x=1.txt\"; filename*=UTF-8''say%20%22hi%22%3B%20x%3D1.txt",
        ),
    ],
)
def test_a_download_names_the_file_by_rfc_6266(name: str, header: str) -> None:
    assert content_disposition(name) == header


@pytest.mark.parametrize(
    "name", ["..", "../x", "a/b", "a\\b", "a\x00b", "a\nb", "evil\u202etxt.exe", "x..y", "a\ud800b"]
)
def test_a_name_is_never_a_path(name: str) -> None:
    with pytest.raises(ValueError, match=r"may not contain"):
        display_name(name)


def test_parts_are_at_least_8_mib_and_at_most_a_thousand() -> None:
    assert part_size(1) == MIN_PART_BYTES
    assert part_size(2 * 1024**3) == MIN_PART_BYTES  # 256 parts
    big = 100 * 1024**3
    assert -(-big // part_size(big)) <= MAX_PART_URLS and part_size(big) % (1024 * 1024) == 0


def test_the_bucket_keeps_deleted_files_for_the_retention_and_notifies_only_files() -> None:
    resources = load()["Resources"]
    rules = {r["Id"]: r for r in resources["FilesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-deleted-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == RETENTION_DAYS
    assert resources["FilesBucket"]["Properties"]["VersioningConfiguration"]["Status"] == "Enabled"
    consumer = resources["FileEventsFunction"]["Properties"]
    uploaded = consumer["Events"]["Uploaded"]["Properties"]
    assert uploaded["Filter"]["S3Key"]["Rules"] == [{"Name": "suffix", "Value": f"/{OBJECT_SUFFIX}"}]
    # The bucket's notification names the function: nothing of the function may name the bucket back
    rest = {k: v for k, v in consumer.items() if k != "Events"}
    assert "FilesBucket" not in json.dumps(rest, default=str)
