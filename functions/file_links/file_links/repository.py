"""The file-link routes' reads and writes: files (read only), their share links, the sharer, the tenant."""

from __future__ import annotations

from typing import Any

from riveredge import keys
from riveredge.actor import Actor
from riveredge.db.base import TableModel
from riveredge.db.changes import change
from riveredge.db.file_shares import FileShare
from riveredge.db.files import File
from riveredge.db.models import Tenant, User
from riveredge.scope import Scope


def file(scope: Scope, file_id: str) -> File:
    return File.get_or_404(keys.file(scope, file_id), missing=f"no file {file_id}")


def share(scope: Scope, file_id: str, share_id: str) -> FileShare:
    return FileShare.get_or_404(keys.file_share(scope, file_id, share_id), missing=f"no share link {share_id}")


def shares_page(
    scope: Scope, file_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[FileShare], dict[str, Any] | None]:
    """A page of a file's share links, oldest first (one consistent Query of the file's partition)."""
    partition = keys.file_share(scope, file_id, "")
    found = FileShare.query(
        partition.pk,
        FileShare.sk.startswith(keys.SHARE_PREFIX),
        consistent_read=True,
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    items = [s for s in found if isinstance(s, FileShare)]
    return items, found.last_evaluated_key


def user(scope: Scope, user_id: str) -> User | None:
    return User.find(keys.user(scope, user_id))


def create(actor: Actor, item: FileShare, event: dict[str, Any]) -> None:
    with change(actor, "file.share.create", item) as c:
        c.create(item, conflict="the share link exists already")
        c.publish("file.shared", event, source="files")


def delete(actor: Actor, item: FileShare) -> None:
    with change(actor, "file.share.delete", item, before=item.snapshot()) as c:
        c.delete(item, stale="the share link changed since it was read; read it again")


def link_parts(scope: Scope, file_id: str, share_id: str) -> tuple[Tenant | None, File | None, FileShare | None]:
    """The tenant, the file and the share link a public link names: one consistent BatchGetItem."""
    wanted = [keys.tenant(scope.tenant_id), keys.file(scope, file_id), keys.file_share(scope, file_id, share_id)]
    found: dict[tuple[str, str], TableModel] = {
        (item.pk, item.sk): item for item in TableModel.batch_get([tuple(k) for k in wanted], consistent_read=True)
    }
    tenant, stored, link = (found.get((k.pk, k.sk)) for k in wanted)
    return (
        tenant if isinstance(tenant, Tenant) else None,
        stored if isinstance(stored, File) else None,
        link if isinstance(link, FileShare) else None,
    )


def reread(item: FileShare) -> FileShare | None:
    return FileShare.find((item.pk, item.sk))
