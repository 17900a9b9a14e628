"""The preview consumer: an upload through the file manager's presigned POST, settled by the S3 consumer, whose
``file.stored`` event (outbox, relay, the bus rule of template.yaml) makes an image's thumbnail or a PDF's first
page beside it; bombs and broken files fail with a reason, archives and office files are never opened; once per
event and file; never another tenant's file."""

from __future__ import annotations

import io
import uuid
from typing import Any

import boto3
import pytest
import requests
from PIL import Image
from riveredge import keys
from riveredge.db.models import OperationLogEntry
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture
from tests.integration.stored_files import (
    DOCX,
    decompression_bomb,
    jpeg,
    pdf,
    png,
    reread,
    stored_detail,
    stored_file,
    uploaded_file,
    zip_bomb,
)

FUNCTION = "FilePreviewsFunction"


def _bucket(stack: LocalStack) -> str:
    return stack.environment["FILES_BUCKET"]


def _preview_objects(stack: LocalStack, tenant_id: str, file_id: str) -> list[dict[str, Any]]:
    """Every version of every object under the file's previews prefix."""
    found = boto3.client("s3").list_object_versions(Bucket=_bucket(stack), Prefix=f"{tenant_id}/previews/{file_id}/")
    return list(found.get("Versions", []))


def _image(stack: LocalStack, key: str) -> Image.Image:
    body = boto3.client("s3").get_object(Bucket=_bucket(stack), Key=key)["Body"].read()
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


def _event(tenant_id: str, detail: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "file.stored",
        "source": "riveredge.files",
        "detail": {**detail, "tenant_id": tenant_id, "event_id": event_id or uuid.uuid4().hex},
    }


def _preview_log(tenant_id: str, file_id: str) -> list[OperationLogEntry]:
    scope = Scope(tenant_id)
    with use_scope(scope):
        entries = OperationLogEntry.query(keys.oplog(scope, "").pk, consistent_read=True)
        return [e for e in entries if e.action == "file.preview" and e.resource_id == file_id]


def _dead_letters(stack: LocalStack) -> list[dict[str, str]]:
    sqs = boto3.client("sqs")
    url = stack.registry.get(FUNCTION).spec.environment["DEAD_LETTER_QUEUE_URL"]
    found: list[dict[str, str]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        if not batch.get("Messages"):
            return found
        for message in batch["Messages"]:
            attributes = message.get("MessageAttributes", {})
            found.append({k: v.get("StringValue", "") for k, v in attributes.items()})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _preview_answer(stack: LocalStack, token: str, file_id: str) -> dict[str, Any]:
    reply = stack.request("GET", f"/api/files/{file_id}/preview", token=token)
    assert reply.status == 200, reply.body
    return dict(reply.json())


# -- images and PDFs ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "content_type", "name", "size"),
    [
        (png(800, 400), "image/png", "wide.png", (256, 128)),
        (jpeg(300, 900), "image/jpeg", "tall.jpg", (85, 256)),
        (png(40, 30), "image/png", "small.png", (40, 30)),
    ],
    ids=["png", "jpeg", "small-png"],
)
def test_an_image_gets_a_png_thumbnail_that_fits_256_pixels(
    stack: LocalStack, acme: TenantFixture, content: bytes, content_type: str, name: str, size: tuple[int, int]
) -> None:
    # Given an image uploaded through the file manager, settled ready by the S3 consumer (sniffed, not named)
    file_id = uploaded_file(stack, acme.admin_token, content, content_type, name)["id"]
    # Then once its file.stored event was delivered, its preview is ready, stored beside it: a PNG that fits
    # 256 x 256 with the image's proportions
    found = reread(acme.id, file_id)
    assert (found.status, found.content_type) == ("ready", content_type)
    assert (found.preview_status, found.preview_error) == ("ready", None)
    assert found.preview_key == f"{acme.id}/previews/{file_id}/thumbnail.png"
    thumbnail = _image(stack, found.preview_key)
    assert (thumbnail.format, thumbnail.size) == ("PNG", size)
    # And the preview route hands out a short-lived link that serves that PNG
    answer = _preview_answer(stack, acme.admin_token, file_id)
    assert (answer["kind"], answer["status"], answer["expires_in"]) == ("image", "ready", 300)
    served = requests.get(answer["url"], timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == size


def test_a_pdf_gets_its_first_page_rendered_as_a_png_of_capped_size(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a PDF whose one page is 200 x 100 points with a blue lower-left quarter
    file_id = uploaded_file(stack, acme.admin_token, pdf(200, 100), "application/pdf", "report.pdf")["id"]
    # Then its preview is the first page as a PNG whose long side is 1024 pixels (so 1024 x 512)
    found = reread(acme.id, file_id)
    assert found.preview_status == "ready", found.preview_error
    assert found.preview_key == f"{acme.id}/previews/{file_id}/page-1.png"
    page = _image(stack, found.preview_key).convert("RGB")
    assert page.size == (1024, 512)
    # And it is the page as drawn: blue in the lower-left quarter, white in the upper right
    blue, white = page.getpixel((100, 450)), page.getpixel((900, 50))
    assert isinstance(blue, tuple) and blue[2] > 200 and blue[0] < 60 and blue[1] < 60
    assert white == (255, 255, 255)
    assert _preview_answer(stack, acme.admin_token, file_id)["kind"] == "pdf"


# -- what is never decoded -------------------------------------------------------------------------------------
def test_a_decompression_bomb_fails_its_preview_with_the_reason_and_is_never_decoded(
    stack: LocalStack, acme: TenantFixture
) -> None:
    # Given a 64-megapixel PNG of 8 KB (above the 40-megapixel limit)
    bomb = decompression_bomb()
    assert len(bomb) < 20_000
    file_id = uploaded_file(stack, acme.admin_token, bomb, "image/png", "bomb.png")["id"]
    # Then its preview failed with the reason, nothing was stored, and nothing is left to retry
    found = reread(acme.id, file_id)
    assert found.status == "ready" and found.preview_status == "failed" and found.preview_key is None
    assert "decompression bomb" in str(found.preview_error)
    assert _preview_objects(stack, acme.id, file_id) == []
    # And the preview route says so
    answer = _preview_answer(stack, acme.admin_token, file_id)
    assert (answer["kind"], answer["status"], answer["url"]) == ("none", "failed", None)
    assert "decompression bomb" in answer["error"]


@pytest.mark.parametrize("kind", ["zip", "office"])
def test_archives_and_office_files_are_never_opened_for_a_preview(
    stack: LocalStack, fresh_tenant: TenantFixture, kind: str
) -> None:
    # Given a zip bomb (100 MB of zeros in about 100 KB) uploaded as a zip, or stored as an office document
    # (which is a zip too)
    bomb = zip_bomb()
    assert len(bomb) < 200_000
    if kind == "zip":
        file_id = uploaded_file(stack, fresh_tenant.admin_token, bomb, "application/zip", "zeros.zip")["id"]
    else:
        file_id = stored_file(stack, fresh_tenant.id, bomb, DOCX, "letter.docx").file_id
        stack.settle()
    # Then no preview is made of it (we never decompress it), and without kkFileView there is none to show
    found = reread(fresh_tenant.id, file_id)
    assert found.status == "ready"
    assert (found.preview_status, found.preview_key, found.preview_error) == ("none", None, None)
    assert _preview_objects(stack, fresh_tenant.id, file_id) == []
    answer = _preview_answer(stack, fresh_tenant.admin_token, file_id)
    assert (answer["kind"], answer["status"], answer["url"]) == ("none", "none", None)


def test_a_pdf_that_is_not_one_fails_its_preview_with_the_reason(stack: LocalStack, acme: TenantFixture) -> None:
    broken = b"%PDF-1.4\n% nothing else\n"
    file_id = uploaded_file(stack, acme.admin_token, broken, "application/pdf", "broken.pdf")["id"]
    found = reread(acme.id, file_id)
    assert found.preview_status == "failed" and "could not be opened" in str(found.preview_error)


# -- once, and in its own tenant only -------------------------------------------------------------------------
def test_the_same_event_twice_renders_once(stack: LocalStack, acme: TenantFixture) -> None:
    # Given a stored PNG whose event a test delivers itself
    item = stored_file(stack, acme.id, png(600, 600), "image/png", "twice.png", announce=False)
    event = _event(acme.id, stored_detail(item), event_id="evt-" + uuid.uuid4().hex)
    # When the same event arrives twice, and then another event about the same file
    first = stack.invoke(FUNCTION, event)
    second = stack.invoke(FUNCTION, {**event, "id": str(uuid.uuid4())})
    other = stack.invoke(FUNCTION, _event(acme.id, stored_detail(item)))
    # Then the thumbnail was rendered and stored once, and recorded once
    assert first == second == {"file_id": item.file_id, "preview_status": "ready"}
    assert other["skipped"] == "its preview was made already"
    assert len(_preview_objects(stack, acme.id, item.file_id)) == 1
    [entry] = _preview_log(acme.id, item.file_id)
    assert entry.before == {"preview_status": None, "preview_key": None, "preview_error": None}
    assert entry.after is not None and entry.after["preview_status"] == "ready"


def test_an_event_cannot_make_a_preview_of_another_tenants_file(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    # Given a file of globex's, not yet previewed
    theirs = stored_file(stack, globex.id, png(300, 300), "image/png", "theirs.png", announce=False)
    _dead_letters(stack)
    # When an event in acme's name names globex's object, or globex's file id under acme's prefix
    refused = stack.invoke(FUNCTION, _event(acme.id, stored_detail(theirs), event_id="x-" + uuid.uuid4().hex))
    forged = {**stored_detail(theirs), "object_key": f"{acme.id}/files/{theirs.file_id}/original"}
    skipped = stack.invoke(FUNCTION, _event(acme.id, forged))
    # Then the first is refused to the dead-letter queue with its reason, the second finds no such file in acme
    assert refused is None
    reasons = [d["reason"] for d in _dead_letters(stack)]
    assert "the event's object is not one of its tenant's files" in reasons
    assert skipped == {"file_id": theirs.file_id, "skipped": "no such file"}
    # And globex's file has no preview, and nothing was written under globex's previews
    assert reread(globex.id, theirs.file_id).preview_status is None
    assert _preview_objects(stack, globex.id, theirs.file_id) == []


def test_a_file_that_is_not_ready_gets_no_preview(stack: LocalStack, acme: TenantFixture) -> None:
    item = stored_file(stack, acme.id, png(50, 50), "image/png", "held.png", status="quarantined", announce=False)
    answer = stack.invoke(FUNCTION, _event(acme.id, stored_detail(item)))
    assert answer == {"file_id": item.file_id, "preview_status": None, "skipped": "the file is quarantined"}
    assert _preview_objects(stack, acme.id, item.file_id) == []


def test_a_file_whose_object_is_gone_fails_its_preview_instead_of_retrying(
    stack: LocalStack, acme: TenantFixture
) -> None:
    # Given a ready file whose settled version is no longer in the bucket
    item = stored_file(stack, acme.id, png(20, 20), "image/png", "gone.png", announce=False)
    boto3.client("s3").delete_object(Bucket=_bucket(stack), Key=item.object_key, VersionId=str(item.object_version))
    # When its event is delivered, the preview is recorded as failed with the reason (the event is done)
    answer = stack.invoke(FUNCTION, _event(acme.id, stored_detail(item)))
    assert answer == {"file_id": item.file_id, "preview_status": "failed"}
    assert reread(acme.id, item.file_id).preview_error == "the file's stored object is missing"
