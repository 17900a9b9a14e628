"""The file manager through the API: uploads through the presigned POST (and multipart) settled by the real S3
consumer, quarantine, the storage quota (reservations under concurrency, usage, the 80 % warning), folders,
listings, soft delete and restore, settings; every route per tenant and permission-checked."""

from __future__ import annotations

import hashlib
import struct
import threading
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from riveredge import keys
from riveredge.db.files import File, StorageQuota
from riveredge.db.models import OutboxEvent
from riveredge.scope import Scope, use_scope

from local_stack.stack import LocalStack, Reply
from tests.integration.accounts import make_user, seed_role
from tests.integration.conftest import Account, TenantFixture

FILES = "/api/files"
FOLDERS = "/api/folders"
SETTLE_SECONDS = 30.0


def png(width: int = 3, height: int = 2) -> bytes:
    """A real PNG (RGB, one filter byte per row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _name(stem: str = "file", extension: str = ".txt") -> str:
    return f"{stem}-{uuid.uuid4().hex[:6]}{extension}"


def presign(stack: LocalStack, token: str, name: str, content_type: str, size: int, **extra: Any) -> Reply:
    body = {"name": name, "content_type": content_type, "size": size, **extra}
    return stack.request("POST", f"{FILES}/uploads", token=token, json_body=body)


def post_form(form: dict[str, Any], name: str, content: bytes, content_type: str) -> requests.Response:
    return requests.post(form["url"], data=form["fields"], files={"file": (name, content, content_type)}, timeout=30)


def notifications_done(deadline: float) -> None:
    """Wait for the S3 notifications in flight: the local stack runs each on a thread of its own, which ends
    when the consumer has returned (its work after settling the file included: the storage warning)."""
    for thread in threading.enumerate():
        if thread.name == "s3-notification":
            thread.join(max(deadline - time.monotonic(), 0.1))


def settled(stack: LocalStack, token: str, file_id: str) -> dict[str, Any]:
    """The file once the consumer has settled it (the S3 notification runs on its own thread)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        reply = stack.request("GET", f"{FILES}/{file_id}", token=token)
        assert reply.status == 200, reply.body
        found: dict[str, Any] = reply.json()
        if found["status"] != "pending":
            notifications_done(deadline)
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"file {file_id} was not settled within {SETTLE_SECONDS} s")
        time.sleep(0.05)


def upload(
    stack: LocalStack,
    token: str,
    content: bytes,
    *,
    name: str | None = None,
    content_type: str = "text/plain",
    folder_id: str | None = None,
) -> dict[str, Any]:
    """Upload `content` through the presigned POST and answer the settled file."""
    name = name or _name()
    extra = {"folder_id": folder_id} if folder_id else {}
    reply = presign(stack, token, name, content_type, len(content), **extra)
    assert reply.status == 201, reply.body
    posted = post_form(reply.json()["upload"], name, content, content_type)
    assert posted.status_code in (200, 204), posted.text
    return settled(stack, token, reply.json()["file"]["id"])


def usage(stack: LocalStack, token: str) -> dict[str, Any]:
    reply = stack.request("GET", f"{FILES}/usage", token=token)
    assert reply.status == 200, reply.body
    return dict(reply.json())


def set_quota(stack: LocalStack, operator: Account, tenant_id: str, **limits: int | None) -> dict[str, Any]:
    path = f"/api/tenants/{tenant_id}/storage-quota"
    reply = stack.request("PUT", path, token=operator.token, json_body=limits)
    assert reply.status == 200, reply.body
    return dict(reply.json())


def folder(stack: LocalStack, token: str, name: str, parent_id: str | None = None) -> dict[str, Any]:
    reply = stack.request("POST", FOLDERS, token=token, json_body={"name": name, "parent_id": parent_id})
    assert reply.status == 201, reply.body
    return dict(reply.json())


def put_file(stack: LocalStack, token: str, file_id: str, **changes: Any) -> Reply:
    """PUT changes on the version just read, reading again after a 412: the preview consumer (another
    function, on the file.stored event) may write the file meanwhile."""
    for _ in range(5):
        version = stack.request("GET", f"{FILES}/{file_id}", token=token).json()["version"]
        reply = stack.request("PUT", f"{FILES}/{file_id}", token=token, json_body={"version": version, **changes})
        if reply.status != 412:
            return reply
        time.sleep(0.2)
    return reply


def fields(reply: Reply) -> set[str]:
    return {e["field"] for e in reply.json().get("errors", [])}


def stored(tenant_id: str, file_id: str) -> File | None:
    scope = Scope(tenant_id)
    with use_scope(scope):
        return File.find(keys.file(scope, file_id))


# -- uploads settled by the consumer ----------------------------------------------------------
def test_an_upload_through_the_presigned_post_is_settled_with_its_sniffed_type_size_and_digest(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    content = png(5, 4)
    # Given an upload form for a PNG
    reply = presign(stack, token, "Photo Été.png", "image/png", len(content))
    assert reply.status == 201, reply.body
    answer = reply.json()
    form, pending = answer["upload"], answer["file"]
    # Then its policy fixes a key under the tenant's files, independent of the name, and the declared size
    assert form["key"] == f"{fresh_tenant.id}/files/{pending['id']}/original"
    assert form["fields"]["Content-Type"] == "image/png" and form["max_bytes"] == len(content)
    assert pending["status"] == "pending" and reply.headers["Location"] == f"{FILES}/{pending['id']}"
    # And the size is reserved meanwhile
    assert usage(stack, token)["bytes"]["reserved"] == len(content)
    # When the browser posts the file, S3's event runs the real consumer
    assert post_form(form, "Photo Été.png", content, "image/png").status_code in (200, 204)
    found = settled(stack, token, pending["id"])
    # Then the file is ready with what its bytes are
    assert found["status"] == "ready", found
    assert found["content_type"] == "image/png"
    assert found["size"] == len(content) and found["sha256"] == hashlib.sha256(content).hexdigest()
    assert (found["width"], found["height"]) == (5, 4)
    # And the quota counts the object's real size as used, nothing reserved
    now = usage(stack, token)
    assert now["bytes"]["used"] == len(content) and now["bytes"]["reserved"] == 0
    assert now["count"]["used"] == 1 and now["count"]["reserved"] == 0
    # And a download is the object, as an attachment under its name (RFC 6266 / 5987)
    link = stack.request("GET", f"{FILES}/{pending['id']}/download", token=token)
    assert link.status == 200, link.body
    got = requests.get(link.json()["url"], timeout=10)
    assert got.content == content
    assert got.headers["Content-Disposition"] == (
        "attachment; filename=\"Photo Ete.png\"; filename*=UTF-8''Photo%20%C3%89t%C3%A9.png"
    )
    # And file.stored went out through the outbox
    with use_scope(Scope(fresh_tenant.id)):
        events = [
            e
            for e in OutboxEvent.query(keys.collection(Scope(fresh_tenant.id), "OUTBOX"))
            if isinstance(e, OutboxEvent) and e.detail_type == "file.stored"
        ]
    assert [(e.source, dict(e.detail)) for e in events] == [
        (
            "files",
            {
                "tenant_id": fresh_tenant.id,
                "file_id": pending["id"],
                "object_key": form["key"],
                "content_type": "image/png",
                "size": len(content),
                "version": found["version"],
            },
        )
    ]


def test_a_png_named_pdf_and_an_elf_named_png_are_quarantined_and_never_served(
    stack: LocalStack, acme: TenantFixture
) -> None:
    token = acme.admin_token
    # When a PNG is uploaded as a PDF, and an ELF program as a PNG
    renamed = upload(stack, token, png(), name=_name("report", ".pdf"), content_type="application/pdf")
    program = upload(stack, token, ELF, name=_name("cat", ".png"), content_type="image/png")
    # Then both are quarantined with the reason
    assert renamed["status"] == "quarantined" and renamed["content_type"] == "image/png"
    assert renamed["quarantine_reason"] == "the content is image/png, not the declared application/pdf"
    assert program["status"] == "quarantined" and program["content_type"] == "application/x-executable"
    assert "not accept" in program["quarantine_reason"]
    # And neither is served
    for item in (renamed, program):
        reply = stack.request("GET", f"{FILES}/{item['id']}/download", token=token)
        assert reply.status == 409 and fields(reply) == {"status"}, reply.body
    # While a real PDF named .pdf is ready
    document = upload(stack, token, PDF, name=_name("real", ".pdf"), content_type="application/pdf")
    assert document["status"] == "ready" and document["content_type"] == "application/pdf"


def test_a_large_file_goes_up_in_parts_and_is_settled_when_completed(stack: LocalStack, acme: TenantFixture) -> None:
    token = acme.admin_token
    content = (b"0123456789abcdef" * 4096) * 130 + b"tail"  # 8 MiB + 4 bytes: two parts
    name = _name("big", ".bin")
    # Given a multipart upload
    reply = stack.request(
        "POST",
        f"{FILES}/uploads/multipart",
        token=token,
        json_body={"name": name, "content_type": "application/octet-stream", "size": len(content)},
    )
    assert reply.status == 201, reply.body
    started = reply.json()
    assert started["part_size"] == 8 * 1024 * 1024 and [p["part_number"] for p in started["parts"]] == [1, 2]
    # When every part is PUT to its URL
    etags = []
    for part in started["parts"]:
        start = (part["part_number"] - 1) * started["part_size"]
        put = requests.put(part["url"], data=content[start : start + started["part_size"]], timeout=30)
        assert put.status_code == 200, put.text
        etags.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})
    file_id = started["file"]["id"]
    path = f"{FILES}/uploads/multipart/{file_id}/complete"
    # Then a key outside the tenant's files, or another upload's id, is refused naming the field
    wrong_key = stack.request(
        "POST", path, token=token, json_body={"key": "other/x", "upload_id": started["upload_id"], "parts": etags}
    )
    assert wrong_key.status == 422 and fields(wrong_key) == {"key"}
    wrong_id = stack.request(
        "POST", path, token=token, json_body={"key": started["key"], "upload_id": "nope", "parts": etags}
    )
    assert wrong_id.status == 422 and fields(wrong_id) == {"upload_id"}
    # And the real completion settles the file through the consumer
    done = stack.request(
        "POST", path, token=token, json_body={"key": started["key"], "upload_id": started["upload_id"], "parts": etags}
    )
    assert done.status == 200, done.body
    found = settled(stack, token, file_id)
    assert found["status"] == "ready" and found["size"] == len(content)
    assert found["sha256"] == hashlib.sha256(content).hexdigest()


def test_an_aborted_multipart_upload_gives_its_reservation_back(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    body = {"name": _name("big", ".bin"), "content_type": "application/zip", "size": 20 * 1024 * 1024}
    started = stack.request("POST", f"{FILES}/uploads/multipart", token=token, json_body=body).json()
    assert usage(stack, token)["bytes"]["reserved"] == 20 * 1024 * 1024
    file_id = started["file"]["id"]
    reply = stack.request("POST", f"{FILES}/uploads/multipart/{file_id}/abort", token=token)
    assert reply.status == 204, reply.body
    assert usage(stack, token)["bytes"]["reserved"] == 0
    assert stack.request("GET", f"{FILES}/{file_id}", token=token).status == 404


# -- the quota -------------------------------------------------------------------------------
def test_concurrent_presigns_never_reserve_more_than_the_quota(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account
) -> None:
    token = fresh_tenant.admin_token
    # Given a tenant whose operator allows 6,000 bytes
    set_quota(stack, operator, fresh_tenant.id, limit_bytes=6_000, limit_count=1_000)

    def one(i: int) -> Reply:
        return presign(stack, token, f"part-{i}.txt", "text/plain", 1_000)

    # When 12 uploads of 1,000 bytes are presigned at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(one, range(12)))
    # Then exactly six are reserved and the others are 413 naming the size
    statuses = sorted(r.status for r in replies)
    assert statuses == [201] * 6 + [413] * 6, [(r.status, r.body[:120]) for r in replies]
    refused = next(r for r in replies if r.status == 413)
    assert refused.json()["type"] == "/problems/storage-quota-exceeded" and fields(refused) == {"size"}
    now = usage(stack, token)
    assert now["bytes"] == {"used": 0, "reserved": 6_000, "limit": 6_000, "available": 0}
    assert now["limit_source"] == "operator"


def test_usage_matches_the_objects_and_the_warning_goes_out_once_per_crossing(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account
) -> None:
    token = fresh_tenant.admin_token
    set_quota(stack, operator, fresh_tenant.id, limit_bytes=1_000)

    def warnings() -> list[dict[str, Any]]:
        return [m for m in stack.mail() if m["kind"] == "storage_warning" and m["tenant_id"] == fresh_tenant.id]

    # When 500 bytes are stored, then 350 more (85 %), then 50 more
    first = upload(stack, token, b"a" * 500)
    second = upload(stack, token, b"b" * 350)
    upload(stack, token, b"c" * 50)
    # Then usage is the objects' sizes, and one warning went to the admin
    assert usage(stack, token)["bytes"]["used"] == 900
    sent = warnings()
    assert len(sent) == 1 and sent[0]["to"] == [fresh_tenant.admin_email], sent
    # When use falls back below 80 % (a delete) and crosses it again (a restore), a second warning goes out
    reply = stack.request("DELETE", f"{FILES}/{second['id']}", token=token)
    assert reply.status == 204, reply.body
    assert usage(stack, token)["bytes"]["used"] == 550
    restored = stack.request("POST", f"{FILES}/{second['id']}/restore", token=token)
    assert restored.status == 200, restored.body
    upload(stack, token, b"d" * 10)
    assert len(warnings()) == 2
    # And a file that no longer fits is refused
    too_big = presign(stack, token, "x.txt", "text/plain", 200)
    assert too_big.status == 413 and fields(too_big) == {"size"}
    assert first["status"] == "ready"


# -- folders and listings ----------------------------------------------------------------------
def test_folders_are_a_tree_that_moves_and_renames_and_deletes_only_when_empty(
    stack: LocalStack, acme: TenantFixture
) -> None:
    token = acme.admin_token
    top = folder(stack, token, _name("top", ""))
    child = folder(stack, token, "child", top["id"])
    grandchild = folder(stack, token, "grandchild", child["id"])
    assert grandchild["path"] == [top["id"], child["id"], grandchild["id"]] and grandchild["depth"] == 3
    # A folder cannot move below itself
    version = stack.request("GET", f"{FOLDERS}/{top['id']}", token=token).json()["version"]
    reply = stack.request(
        "PUT", f"{FOLDERS}/{top['id']}", token=token, json_body={"version": version, "parent_id": grandchild["id"]}
    )
    assert reply.status == 422 and fields(reply) == {"parent_id"}, reply.body
    # Moving the child to the root takes its subtree along
    current = stack.request("GET", f"{FOLDERS}/{child['id']}", token=token).json()
    moved = stack.request(
        "PUT",
        f"{FOLDERS}/{child['id']}",
        token=token,
        json_body={"version": current["version"], "parent_id": None, "name": "Child"},
    )
    assert moved.status == 200, moved.body
    below = stack.request("GET", f"{FOLDERS}/{grandchild['id']}", token=token).json()
    assert below["path"] == [child["id"], grandchild["id"]] and [a["name"] for a in below["ancestors"]] == ["Child"]
    # The children of a folder are listed by name
    listed = stack.request("GET", f"{FOLDERS}?parent_id={child['id']}", token=token).json()
    assert [f["id"] for f in listed["items"]] == [grandchild["id"]]
    # A folder holding something is not deleted
    refused = stack.request("DELETE", f"{FOLDERS}/{child['id']}", token=token)
    assert refused.status == 409, refused.body
    assert stack.request("DELETE", f"{FOLDERS}/{grandchild['id']}", token=token).status == 204
    assert stack.request("DELETE", f"{FOLDERS}/{child['id']}", token=token).status == 204


def test_a_folders_files_list_by_name_size_and_date_with_a_name_prefix_and_cursor(
    stack: LocalStack, acme: TenantFixture
) -> None:
    token = acme.admin_token
    box = folder(stack, token, _name("box", ""))
    made = [
        upload(stack, token, b"x" * size, name=name, folder_id=box["id"])
        for name, size in (("beta.txt", 30), ("Alpha.txt", 20), ("alpine.txt", 10))
    ]

    def names(query: str) -> list[str]:
        reply = stack.request("GET", f"{FILES}?folder_id={box['id']}&{query}", token=token)
        assert reply.status == 200, reply.body
        return [f["name"] for f in reply.json()["items"]]

    assert names("sort=name") == ["Alpha.txt", "alpine.txt", "beta.txt"]
    assert names("sort=size&order=desc") == ["beta.txt", "Alpha.txt", "alpine.txt"]
    assert names("sort=created_at") == [m["name"] for m in made]
    assert names("q=AL") == ["Alpha.txt", "alpine.txt"]
    assert names("q=al&sort=size") == ["alpine.txt", "Alpha.txt"]
    # One page at a time with the signed cursor; a forged one is a 400
    first = stack.request("GET", f"{FILES}?folder_id={box['id']}&limit=2", token=token).json()
    second = stack.request(
        "GET", f"{FILES}?folder_id={box['id']}&limit=2&cursor={first['next_cursor']}", token=token
    ).json()
    assert [f["name"] for f in first["items"] + second["items"]] == ["Alpha.txt", "alpine.txt", "beta.txt"]
    forged = stack.request("GET", f"{FILES}?folder_id={box['id']}&cursor=abc.def", token=token)
    assert forged.status == 400
    # Renaming and moving a file to the root
    reply = put_file(stack, token, made[0]["id"], name="gamma.txt", folder_id=None)
    assert reply.status == 200 and reply.json()["folder_id"] is None, reply.body
    assert names("sort=name") == ["Alpha.txt", "alpine.txt"]


def test_a_deleted_file_is_restorable_and_its_bytes_leave_the_quota_meanwhile(
    stack: LocalStack, fresh_tenant: TenantFixture
) -> None:
    token = fresh_tenant.admin_token
    item = upload(stack, token, b"keep me" * 10)
    key = f"{fresh_tenant.id}/files/{item['id']}/original"
    s3 = boto3.client("s3")
    bucket = stack.environment["FILES_BUCKET"]
    # When it is deleted
    assert stack.request("DELETE", f"{FILES}/{item['id']}", token=token).status == 204
    # Then it is in the recycle bin with a retention date, out of the quota, and S3 hides the object
    binned = stack.request("GET", f"{FILES}?deleted=true", token=token).json()["items"]
    assert [f["id"] for f in binned] == [item["id"]] and binned[0]["restorable_until"]
    assert usage(stack, token)["bytes"]["used"] == 0
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key=key)
    assert stored(fresh_tenant.id, item["id"]).ttl is not None  # type: ignore[union-attr]
    download = stack.request("GET", f"{FILES}/{item['id']}/download", token=token)
    assert download.status == 409
    # When it is restored, it is back with its bytes
    restored = stack.request("POST", f"{FILES}/{item['id']}/restore", token=token)
    assert restored.status == 200 and restored.json()["status"] == "ready", restored.body
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == 70
    assert usage(stack, token)["bytes"]["used"] == 70
    assert stored(fresh_tenant.id, item["id"]).ttl is None  # type: ignore[union-attr]


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"name": "../../etc/passwd"}, "name", 422),
        ({"name": "a/b.txt"}, "name", 422),
        ({"name": "a\\b.txt"}, "name", 422),
        ({"name": "bad\x00name.txt"}, "name", 422),
        ({"name": "evil\u202etxt.exe"}, "name", 422),
        ({"name": "x" * 256}, "name", 422),
        ({"name": "setup.exe"}, "name", 422),
        ({"content_type": "application/x-msdownload"}, "content_type", 422),
        ({"content_type": "not a type"}, "content_type", 422),
        ({"size": 0}, "size", 422),
        ({"size": 3 * 1024**3}, "size", 413),
        ({"folder_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, "folder_id", 422),
        ({"tenant_id": "x"}, "tenant_id", 422),
    ],
)
def test_bad_upload_requests_name_the_field_and_store_nothing(
    stack: LocalStack, acme: TenantFixture, body: dict[str, Any], field: str, status: int
) -> None:
    token = acme.admin_token
    before = usage(stack, token)
    sent = {"name": "ok.txt", "content_type": "text/plain", "size": 10, **body}
    reply = stack.request("POST", f"{FILES}/uploads", token=token, json_body=sent)
    assert reply.status == status and field in fields(reply), reply.body
    assert usage(stack, token) == before


def test_settings_change_what_an_upload_may_be(stack: LocalStack, fresh_tenant: TenantFixture) -> None:
    token = fresh_tenant.admin_token
    defaults = stack.request("GET", f"{FILES}/settings", token=token).json()
    assert defaults["version"] == 0 and "application/x-executable" in defaults["blocked_types"]
    bad = stack.request(
        "PUT", f"{FILES}/settings", token=token, json_body={"version": 0, "kkfileview_base_url": "ftp://x"}
    )
    assert bad.status == 422 and fields(bad) == {"kkfileview_base_url"}
    reply = stack.request(
        "PUT",
        f"{FILES}/settings",
        token=token,
        json_body={
            "version": 0,
            "blocked_types": ["text/plain"],
            "kkfileview_base_url": "https://preview.example.com/",
        },
    )
    assert reply.status == 200, reply.body
    assert reply.json()["kkfileview_base_url"] == "https://preview.example.com" and reply.json()["version"] == 1
    assert presign(stack, token, "a.txt", "text/plain", 5).status == 422
    stale = stack.request("PUT", f"{FILES}/settings", token=token, json_body={"version": 0, "max_file_bytes": 5})
    assert stale.status == 412


# -- every route: its tenant only, its permission ---------------------------------------------
def _routes(file_id: str, folder_id: str) -> list[tuple[str, str, Any]]:
    upload_body = {"name": "x.txt", "content_type": "text/plain", "size": 1}
    return [
        ("POST", f"{FILES}/uploads", upload_body),
        ("POST", f"{FILES}/uploads/multipart", upload_body),
        (
            "POST",
            f"{FILES}/uploads/multipart/{file_id}/complete",
            {"key": "k", "upload_id": "u", "parts": [{"part_number": 1, "etag": "e"}]},
        ),
        ("POST", f"{FILES}/uploads/multipart/{file_id}/abort", None),
        ("GET", f"{FILES}/usage", None),
        ("GET", f"{FILES}/settings", None),
        ("PUT", f"{FILES}/settings", {"version": 0}),
        ("GET", FILES, None),
        ("GET", f"{FILES}/{file_id}", None),
        ("PUT", f"{FILES}/{file_id}", {"version": 1, "name": "y.txt"}),
        ("DELETE", f"{FILES}/{file_id}", None),
        ("POST", f"{FILES}/{file_id}/restore", None),
        ("GET", f"{FILES}/{file_id}/download", None),
        ("GET", FOLDERS, None),
        ("POST", FOLDERS, {"name": "f"}),
        ("GET", f"{FOLDERS}/{folder_id}", None),
        ("PUT", f"{FOLDERS}/{folder_id}", {"version": 1, "name": "g"}),
        ("DELETE", f"{FOLDERS}/{folder_id}", None),
    ]


def test_each_route_needs_its_permission(stack: LocalStack, acme: TenantFixture) -> None:
    token = acme.admin_token
    item = upload(stack, token, b"perm")
    box = folder(stack, token, _name("perm", ""))
    # A signed-in member without any file permission is refused everywhere
    nobody = make_user(stack, acme.id, acme.code, [])
    refused = [
        (m, p, r.status)
        for m, p, b in _routes(item["id"], box["id"])
        if (r := stack.request(m, p, token=nobody["token"], json_body=b)).status != 403
    ]
    assert refused == []
    # A viewer may read but not write
    viewer = make_user(stack, acme.id, acme.code, [seed_role(acme.id, ["file.view"])])
    writes = [(m, p, b) for m, p, b in _routes(item["id"], box["id"]) if m != "GET"]
    assert [(m, p) for m, p, b in writes if stack.request(m, p, token=viewer["token"], json_body=b).status != 403] == []
    assert stack.request("GET", f"{FILES}/{item['id']}", token=viewer["token"]).status == 200
    # The operator's quota route is for operators only
    reply = stack.request("PUT", f"/api/tenants/{acme.id}/storage-quota", token=token, json_body={})
    assert reply.status == 403


def test_another_tenants_files_and_folders_answer_404(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture
) -> None:
    item = upload(stack, acme.admin_token, b"mine")
    box = folder(stack, acme.admin_token, _name("mine", ""))
    # Every route naming acme's file or folder answers 404 to globex's admin
    foreign = [(m, p, b) for m, p, b in _routes(item["id"], box["id"]) if item["id"] in p or box["id"] in p]
    answers = [(m, p, stack.request(m, p, token=globex.admin_token, json_body=b).status) for m, p, b in foreign]
    assert [a for a in answers if a[2] != 404] == []
    # And as a filter or a destination it is no folder of globex's
    listed = stack.request("GET", f"{FILES}?folder_id={box['id']}", token=globex.admin_token)
    assert listed.status == 404
    into = presign(stack, globex.admin_token, "x.txt", "text/plain", 1, folder_id=box["id"])
    assert into.status == 422 and fields(into) == {"folder_id"}
    # Nothing of acme's changed
    after = stack.request("GET", f"{FILES}/{item['id']}", token=acme.admin_token).json()
    assert {k: after[k] for k in ("name", "folder_id", "status", "sha256")} == {
        k: item[k] for k in ("name", "folder_id", "status", "sha256")
    }


def test_the_operator_sees_and_sets_a_tenants_storage_quota(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account
) -> None:
    path = f"/api/tenants/{fresh_tenant.id}/storage-quota"
    found = stack.request("GET", path, token=operator.token).json()
    assert found["limit_source"] == "tier" and found["bytes"]["limit"] == 100 * 1024**3
    changed = set_quota(stack, operator, fresh_tenant.id, limit_bytes=5_000, version=found["version"])
    assert changed["bytes"]["limit"] == 5_000 and changed["count"]["limit"] == 100_000
    stale = stack.request("PUT", path, token=operator.token, json_body={"limit_bytes": 1, "version": 0})
    assert stale.status == 412
    back = set_quota(stack, operator, fresh_tenant.id, limit_bytes=None)
    assert back["limit_source"] == "tier" and back["bytes"]["limit"] == 100 * 1024**3
    with use_scope(Scope(fresh_tenant.id)):
        assert StorageQuota.find(keys.storage_quota(Scope(fresh_tenant.id))) is not None
    assert (
        stack.request("GET", path.replace(fresh_tenant.id, "01HZZZZZZZZZZZZZZZZZZZZZZZ"), token=operator.token).status
        == 404
    )


def _age(tenant_id: str, file_id: str, **attributes: Any) -> None:
    """Move a file's times into the past (what waiting would do), straight in the table."""
    scope = Scope(tenant_id)
    with use_scope(scope):
        item = File.get_or_404(keys.file(scope, file_id))
        for name, value in attributes.items():
            setattr(item, name, value)
        if item.status == "pending":
            item.hold_pending(scope)
        item.save()


def test_an_upload_that_never_arrived_gives_its_reservation_back_when_room_is_needed(
    stack: LocalStack, fresh_tenant: TenantFixture, operator: Account
) -> None:
    token = fresh_tenant.admin_token
    set_quota(stack, operator, fresh_tenant.id, limit_bytes=1_000)
    # Given an upload presigned long ago that never arrived, holding the whole quota
    stale = presign(stack, token, "never.txt", "text/plain", 1_000).json()["file"]
    _age(fresh_tenant.id, stale["id"], upload_expires_at=datetime.now(UTC) - timedelta(hours=2))
    # When another upload needs the room, the stale reservation is reclaimed and the new one fits
    fresh = presign(stack, token, "now.txt", "text/plain", 600)
    assert fresh.status == 201, fresh.body
    assert stack.request("GET", f"{FILES}/{stale['id']}", token=token).status == 404
    assert usage(stack, token)["bytes"]["reserved"] == 600
    # While an upload whose form is still valid keeps its reservation
    assert presign(stack, token, "more.txt", "text/plain", 600).status == 413


def test_a_file_deleted_more_than_30_days_ago_cannot_be_restored(stack: LocalStack, acme: TenantFixture) -> None:
    token = acme.admin_token
    item = upload(stack, token, b"old news")
    assert stack.request("DELETE", f"{FILES}/{item['id']}", token=token).status == 204
    _age(acme.id, item["id"], deleted_at=datetime.now(UTC) - timedelta(days=31))
    reply = stack.request("POST", f"{FILES}/{item['id']}/restore", token=token)
    assert reply.status == 409 and "30 days" in reply.json()["detail"], reply.body


def test_the_file_count_is_a_limit_too(stack: LocalStack, fresh_tenant: TenantFixture, operator: Account) -> None:
    token = fresh_tenant.admin_token
    set_quota(stack, operator, fresh_tenant.id, limit_count=2)
    assert presign(stack, token, "one.txt", "text/plain", 1).status == 201
    assert presign(stack, token, "two.txt", "text/plain", 1).status == 201
    refused = presign(stack, token, "three.txt", "text/plain", 1)
    assert refused.status == 413 and fields(refused) == {"size"}, refused.body
    assert "no file can be added" in refused.json()["detail"]
    assert usage(stack, token)["count"] == {"used": 0, "reserved": 2, "limit": 2, "available": 0}
