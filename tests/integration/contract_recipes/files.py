"""Contract recipes of the file manager (uploads, files, folders, settings) and of the operator's storage quota."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import requests

from tests.integration.test_route_contracts import Call, World

FILES = "/api/files"
FOLDERS = "/api/folders"


def _upload_body(size: int = 10) -> dict[str, Any]:
    return {"name": f"c-{uuid.uuid4().hex[:8]}.txt", "content_type": "text/plain", "size": size}


def _file(world: World) -> dict[str, Any]:
    """A quarantined file (PNG bytes declared as text): no file.stored event, so no other consumer writes it
    while a recipe holds its version."""
    from tests.integration.test_files import png, upload

    made = upload(world.stack, world.token, png(), name=f"c-{uuid.uuid4().hex[:8]}.txt")
    assert made["status"] == "quarantined", made
    return made


def _quiet() -> None:
    """Wait for the S3 notifications in flight: a completed upload's consumer writes the operation log and the
    outbox, which the contract test counts to see that a refused request changed nothing."""
    import time

    from tests.integration.test_files import SETTLE_SECONDS, notifications_done

    notifications_done(time.monotonic() + SETTLE_SECONDS)


def _multipart(world: World, *, with_part: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    _quiet()
    started = world.post(f"{FILES}/uploads/multipart", _upload_body(64))
    parts = []
    if with_part:
        put = requests.put(started["parts"][0]["url"], data=b"p" * 64, timeout=10)
        assert put.status_code == 200, put.text
        parts.append({"part_number": 1, "etag": put.headers["ETag"]})
    return started, parts


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    return {
        ("POST", f"{FILES}/uploads"): lambda: Call(
            "POST", f"{FILES}/uploads", world.token, _upload_body(), variant={"size": 11}
        ),
        ("POST", f"{FILES}/uploads/multipart"): lambda: Call(
            "POST", f"{FILES}/uploads/multipart", world.token, _upload_body(), variant={"size": 11}
        ),
        ("POST", FOLDERS): lambda: Call("POST", FOLDERS, world.token, {"name": "Folder"}),
    }


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def read(path: str, token: str | None = None) -> Callable[[], Any]:
        return lambda: world.get(path, token)

    def file_call(method: str, suffix: str = "", *, deleted: bool = False) -> Callable[[], Call]:
        def make() -> Call:
            made = _file(world)
            path = f"{FILES}/{made['id']}"
            version = int(made["version"])
            if deleted:
                world.stack.request("DELETE", path, token=world.token)
                version = int(world.get(path)["version"])
            body = {"version": version, "name": "renamed.txt"} if method == "PUT" else None
            return Call(method, f"{path}{suffix}", world.token, body, version, read(path))

        return make

    def complete() -> Call:
        started, parts = _multipart(world, with_part=True)
        file_id = started["file"]["id"]
        body = {"key": started["key"], "upload_id": started["upload_id"], "parts": parts}
        path = f"{FILES}/uploads/multipart/{file_id}/complete"
        return Call("POST", path, world.token, body, int(started["file"]["version"]), read(f"{FILES}/{file_id}"))

    def abort() -> Call:
        started, _ = _multipart(world, with_part=False)
        file_id = started["file"]["id"]
        path = f"{FILES}/uploads/multipart/{file_id}/abort"
        return Call("POST", path, world.token, None, int(started["file"]["version"]), read(f"{FILES}/{file_id}"))

    def settings() -> Call:
        _quiet()
        version = int(world.get(f"{FILES}/settings")["version"])
        body = {"version": version, "max_file_bytes": 1024**3 + version}
        return Call("PUT", f"{FILES}/settings", world.token, body, version, read(f"{FILES}/settings"))

    def folder(method: str) -> Callable[[], Call]:
        def make() -> Call:
            _quiet()
            made = world.post(FOLDERS, {"name": f"f-{uuid.uuid4().hex[:6]}"})
            path = f"{FOLDERS}/{made['id']}"
            body = {"version": made["version"], "name": "Renamed"} if method == "PUT" else None
            return Call(method, path, world.token, body, int(made["version"]), read(path))

        return make

    def quota() -> Call:
        _quiet()
        path = f"/api/tenants/{world.tenant.id}/storage-quota"
        found = world.get(path, world.operator.token)
        body = {"limit_bytes": 5 * 1024**3 + int(found["version"]), "version": found["version"]}
        return Call("PUT", path, world.operator.token, body, int(found["version"]), read(path, world.operator.token))

    return {
        ("POST", f"{FILES}/uploads/multipart/{{file_id}}/complete"): complete,
        ("POST", f"{FILES}/uploads/multipart/{{file_id}}/abort"): abort,
        ("PUT", f"{FILES}/settings"): settings,
        ("PUT", f"{FILES}/{{file_id}}"): file_call("PUT"),
        ("DELETE", f"{FILES}/{{file_id}}"): file_call("DELETE"),
        ("POST", f"{FILES}/{{file_id}}/restore"): file_call("POST", "/restore", deleted=True),
        ("PUT", f"{FOLDERS}/{{folder_id}}"): folder("PUT"),
        ("DELETE", f"{FOLDERS}/{{folder_id}}"): folder("DELETE"),
        ("PUT", "/api/tenants/{tenant_id}/storage-quota"): quota,
    }
