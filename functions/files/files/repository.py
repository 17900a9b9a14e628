"""File, folder and storage persistence: the only code of this function that touches DynamoDB.

Every write goes through riveredge.db.changes.change: the file or folder, the folders' entry counters, the
storage quota's counters and the operation-log entry land in one transaction, or nothing does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.expressions.condition import Condition
from riveredge import keys, storage
from riveredge.db.base import TableModel
from riveredge.db.changes import Author, Change, change
from riveredge.db.files import File, FileSettings, Folder, StorageQuota
from riveredge.errors import DomainError
from riveredge.scope import Scope

MISSING_FOLDER = "no such folder"
NOT_EMPTY = "the folder is not empty: delete or move what is in it first"


# -- reads ---------------------------------------------------------------------------------
def file(scope: Scope, file_id: str) -> File:
    return File.get_or_404(keys.file(scope, file_id), missing="no such file")


def find_file(scope: Scope, file_id: str) -> File | None:
    return File.find(keys.file(scope, file_id))


def folder(scope: Scope, folder_id: str) -> Folder:
    return Folder.get_or_404(keys.folder(scope, folder_id), missing=MISSING_FOLDER)


def find_folder(scope: Scope, folder_id: str) -> Folder | None:
    return Folder.find(keys.folder(scope, folder_id))


def folders(scope: Scope, folder_ids: list[str]) -> dict[str, Folder]:
    """The existing folders among `folder_ids` (one BatchGetItem: a path is at most MAX_DEPTH deep)."""
    found: dict[str, Folder] = {}
    wanted = [keys.folder(scope, f) for f in dict.fromkeys(folder_ids)]
    for start in range(0, len(wanted), 100):
        for item in TableModel.batch_get([(k.pk, k.sk) for k in wanted[start : start + 100]]):
            if isinstance(item, Folder):
                found[item.folder_id] = item
    return found


def files_page(
    scope: Scope,
    partition: str,
    index: str,
    range_condition: Condition | None,
    filter_condition: Condition | None,
    ascending: bool,
    limit: int,
    start: dict[str, Any] | None,
) -> tuple[list[File], dict[str, Any] | None]:
    """One page of a listing partition of `index` (one Query; a filtered page may hold fewer than `limit`)."""
    query = {"gsi1": File.gsi1.query, "gsi2": File.gsi2.query, "gsi3": File.gsi3.query}[index]
    found: Any = query(
        partition,
        range_condition,
        filter_condition=filter_condition,
        scan_index_forward=ascending,
        limit=limit,
        page_size=limit,
        last_evaluated_key=start,
    )
    return [f for f in found if isinstance(f, File)], found.last_evaluated_key


def children_page(
    scope: Scope, parent_id: str | None, limit: int, start: dict[str, Any] | None
) -> tuple[list[Folder], dict[str, Any] | None]:
    found: Any = Folder.gsi2.query(
        keys.folder_children(scope, parent_id), limit=limit, page_size=limit, last_evaluated_key=start
    )
    return [f for f in found if isinstance(f, Folder)], found.last_evaluated_key


def subtree(scope: Scope, path: str, limit: int) -> list[Folder]:
    """The folder at `path` and every folder below it, at most `limit` + 1 of them (one Query per page)."""
    found = Folder.gsi1.query(keys.folder_tree_index(scope), Folder.gsi1sk.startswith(path), limit=limit + 1)
    return [f for f in found if isinstance(f, Folder)]


def stale_uploads(scope: Scope, before: str, limit: int) -> list[File]:
    """Pending files whose reservation went stale before `before` (ISO time), oldest first: one Query."""
    found = File.gsi1.query(keys.pending_files(scope), File.gsi1sk < before, limit=limit)
    return [f for f in found if isinstance(f, File) and f.status == "pending"]


def settings(scope: Scope) -> FileSettings | None:
    return FileSettings.find(keys.file_settings(scope))


# -- the folders' counters ----------------------------------------------------------------------
def _entry(c: Change, scope: Scope, folder_id: str | None, delta: int) -> None:
    """Count one entry more (or fewer) in `folder_id` (None: the root, which counts nothing)."""
    if folder_id is None:
        return
    key = keys.folder(scope, folder_id)
    # version 0 on the probe: PynamoDB adds "version + 1" (a folder's version moves with its entries) rather
    # than "version = 1", and no version condition: the counter is a plain ADD on whatever is stored
    probe = Folder(key.pk, key.sk, version=0)
    c.update(probe, [Folder.entries.add(delta)], condition=Folder.pk.exists(), versioned=False, missing=MISSING_FOLDER)


# -- file writes -----------------------------------------------------------------------------
def _quota_refused(c: Change, quota: StorageQuota) -> bool:
    return (quota.pk, quota.sk) in c.failed


def create_upload(author: Author, item: File, quota: StorageQuota, on_quota: Callable[[], DomainError]) -> None:
    """The pending file, its reservation of the quota and its folder's counter, in one transaction."""
    scope = author.scope
    try:
        with change(author, "file.upload", item) as c:
            c.create(item, conflict="that file exists already")
            storage.reserve(c, quota, int(item.declared_size))
            _entry(c, scope, item.folder_id, 1)
    except DomainError:
        if _quota_refused(c, quota):
            raise on_quota() from None
        raise


def cancel_upload(author: Author, item: File, quota: StorageQuota, action: str = "file.cancel_upload") -> None:
    """Drop a pending file and give its reservation back (aborted, deleted before it arrived, or stale)."""
    before = item.snapshot()
    with change(author, action, item, before=before) as c:
        c.delete(item, condition=File.status == "pending")
        storage.release_reservation(c, quota, int(item.declared_size))
        _entry(c, author.scope, item.folder_id, -1)


def rename_or_move(author: Author, item: File, before: dict[str, Any], old_folder: str | None) -> None:
    with change(author, "file.update", item, before=before) as c:
        c.save(item)
        if item.folder_id != old_folder:
            _entry(c, author.scope, old_folder, -1)
            _entry(c, author.scope, item.folder_id, 1)


def soft_delete(author: Author, item: File, before: dict[str, Any], quota: StorageQuota, released: int) -> None:
    with change(author, "file.delete", item, before=before) as c:
        c.save(item)
        if released:
            storage.release_used(c, quota, released)
        _entry(c, author.scope, item.folder_id, -1)


def restore(
    author: Author,
    item: File,
    before: dict[str, Any],
    quota: StorageQuota,
    charged: int,
    on_quota: Callable[[], DomainError],
) -> None:
    try:
        with change(author, "file.restore", item, before=before) as c:
            c.save(item)
            if charged:
                storage.charge(c, quota, charged)
            _entry(c, author.scope, item.folder_id, 1)
    except DomainError:
        if _quota_refused(c, quota):
            raise on_quota() from None
        raise


# -- folder writes ----------------------------------------------------------------------------
def create_folder(author: Author, item: Folder) -> None:
    with change(author, "folder.create", item) as c:
        c.create(item, conflict="that folder exists already")
        _entry(c, author.scope, item.parent_id, 1)


def update_folders(
    author: Author, item: Folder, before: dict[str, Any], moved: list[Folder], old_parent: str | None
) -> None:
    """Rename or move a folder; `moved` are its descendants with their new paths (one transaction)."""
    with change(author, "folder.update", item, before=before) as c:
        c.save(item)
        for descendant in moved:
            c.save(descendant)
        if item.parent_id != old_parent:
            _entry(c, author.scope, old_parent, -1)
            _entry(c, author.scope, item.parent_id, 1)


def delete_folder(author: Author, item: Folder) -> None:
    with change(author, "folder.delete", item, before=item.snapshot()) as c:
        c.delete(item, condition=Folder.entries == 0, conflict=NOT_EMPTY)
        _entry(c, author.scope, item.parent_id, -1)


# -- settings ---------------------------------------------------------------------------------
def save_settings(author: Author, item: FileSettings, before: dict[str, Any] | None, *, new: bool) -> None:
    with change(author, "file.settings", item, before=before) as c:
        if new:
            c.create(item, conflict="the file settings were saved meanwhile; read them again")
        else:
            c.save(item)
