"""Contract recipes of the file-link routes: a file's share links (made of a file stored as the S3 consumer
leaves one; the public side of a link takes no Idempotency-Key and has no version)."""

from __future__ import annotations

from collections.abc import Callable

from tests.integration.stored_files import stored_file
from tests.integration.test_route_contracts import Call, World


def _file(world: World) -> str:
    item = stored_file(world.stack, world.tenant.id, b"contract\n", "text/plain", "contract.txt", announce=False)
    return item.file_id


def creating(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def share() -> Call:
        path = f"/api/files/{_file(world)}/shares"
        return Call("POST", path, world.token, {"max_downloads": 2}, variant={"max_downloads": 3})

    return {("POST", "/api/files/{file_id}/shares"): share}


def versioned(world: World) -> dict[tuple[str, str], Callable[[], Call]]:
    def delete() -> Call:
        file_id = _file(world)
        made = world.post(f"/api/files/{file_id}/shares", {})
        path = f"/api/files/{file_id}/shares/{made['id']}"
        return Call("DELETE", path, world.token, None, made["version"], lambda: world.get(path))

    return {("DELETE", "/api/files/{file_id}/shares/{share_id}"): delete}
