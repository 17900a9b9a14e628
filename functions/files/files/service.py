"""File-manager rules: uploads that reserve the quota, folders as a tree, listings, soft delete and restore.

An upload is presigned for a file of a declared name, type and size: the pending file and its reservation
of the tenant's quota are one transaction (riveredge.storage), and the POST policy lets S3 take only that
type, 1 byte up to that size, under the file's own key. The S3 consumer (functions/file_events) settles it.
A file is served (downloaded) only when it is ``ready``: a pending, quarantined or deleted one answers 409
naming its status. Deleting is soft: the object gets a delete marker (its bytes become a noncurrent
version, which the bucket's lifecycle rule expires after :data:`RETENTION_DAYS` days), the item moves to the
recycle bin with a TTL, and the quota gets the bytes back at once; a restore within the retention period
takes them again (413 when they no longer fit) and removes the marker.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from pynamodb.expressions.condition import Condition
from riveredge import cursors, files, keys, storage
from riveredge.actor import Actor
from riveredge.clock import iso, new_id, utcnow
from riveredge.db.changes import System, expect_version
from riveredge.db.files import RETENTION_DAYS, File, FileSettings, Folder, name_key
from riveredge.errors import (
    ConflictError,
    DomainError,
    FieldProblem,
    PayloadTooLargeError,
    PreconditionFailedError,
    ValidationError,
)
from riveredge.observability import logger
from riveredge.scope import Scope

from files import repository
from files.models import (
    CompleteMultipartRequest,
    CreateFolderRequest,
    FileSettingsUpdateRequest,
    FileUploadRequest,
    UpdateFileRequest,
    UpdateFolderRequest,
)

UPLOAD_EXPIRES_SECONDS = 900  # a presigned POST
MULTIPART_EXPIRES_SECONDS = 6 * 3600  # the part URLs of a multipart upload
STALE_AFTER = timedelta(hours=1)  # after its URLs expired, a pending upload's reservation may be reclaimed
DOWNLOAD_EXPIRES_SECONDS = 300
MAX_POST_BYTES = 5 * 1024**3  # S3 takes at most 5 GiB in one POST: larger files go up in parts
MIN_PART_BYTES = 8 * 1024**2  # S3 wants 5 MiB at least for every part but the last
MAX_PART_URLS = 1_000  # the answer stays far below Lambda's 6 MB
MAX_DEPTH = 20
MAX_MOVE = 99  # folders moved in one transaction (DynamoDB: 100 items), the moved one included
RECLAIM_BATCH = 25
ATTEMPTS = 4
RETENTION = timedelta(days=RETENTION_DAYS)
Sort = Literal["name", "created_at", "size"]
Order = Literal["asc", "desc"]
_INDEX = {"name": "gsi1", "size": "gsi2", "created_at": "gsi3"}


def _retrying[T](expected: int | None, attempt: Callable[[], T]) -> T:
    """Run a read-then-write `attempt`; when the caller named no version, a write that lost a race with
    another writer (the preview consumer, a folder's counter) reads again and tries again instead of a 412."""
    for _ in range(ATTEMPTS - 1):
        try:
            return attempt()
        except PreconditionFailedError:
            if expected is not None:
                raise
    return attempt()


def _scope(actor: Actor) -> Scope:
    if actor.scope.is_platform:
        raise ConflictError("files belong to an organisation; the platform stores none")
    return actor.scope


def restorable_until(item: File) -> str | None:
    return iso(item.deleted_at + RETENTION) if item.status == "deleted" and item.deleted_at else None


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", errors=[FieldProblem(field, message)])


def _folder_or_422(scope: Scope, folder_id: str | None, field: str) -> Folder | None:
    if folder_id is None:
        return None
    found = repository.find_folder(scope, folder_id)
    if found is None:
        raise _invalid(field, "no such folder")
    return found


# -- uploads -------------------------------------------------------------------------------
def _checked_upload(scope: Scope, request: FileUploadRequest, *, multipart: bool) -> FileSettings:
    """The tenant's settings, once the request passed them: name ending, type and size allowed."""
    chosen = files.settings(scope)
    extension = os.path.splitext(request.name)[1].lower()
    if extension and extension in set(chosen.blocked_extensions or []):
        raise _invalid("name", f"files ending in {extension} are not accepted by this organisation")
    if request.content_type in set(chosen.blocked_types or []):
        raise _invalid("content_type", f"{request.content_type} files are not accepted by this organisation")
    if request.size > chosen.file_limit:
        raise PayloadTooLargeError(
            f"a file may hold at most {chosen.file_limit} bytes",
            errors=[FieldProblem("size", f"larger than the {chosen.file_limit}-byte limit of a file")],
        )
    if not multipart and request.size > MAX_POST_BYTES:
        raise _invalid("size", f"files above {MAX_POST_BYTES} bytes go up in parts (POST /api/files/uploads/multipart)")
    return chosen


def _pending(actor: Actor, request: FileUploadRequest, *, multipart: bool, expires_in: int) -> File:
    scope = _scope(actor)
    _checked_upload(scope, request, multipart=multipart)
    _folder_or_422(scope, request.folder_id, "folder_id")
    file_id = new_id()
    item = File.new(
        scope,
        file_id,
        name=request.name,
        name_key=name_key(request.name),
        folder_id=request.folder_id,
        object_key=File.object_key_for(scope, file_id),
        declared_type=request.content_type,
        declared_size=request.size,
        status="pending",
        upload="multipart" if multipart else "post",
        upload_expires_at=utcnow() + timedelta(seconds=expires_in),
        created_by=actor.user_id,
        updated_by=actor.user_id,
    )
    item.hold_pending(scope)
    return item


def _reserve(actor: Actor, item: File) -> None:
    """Create the pending file with its reservation; when the quota has no room, reclaim stale uploads once
    and try again (413 if there is still none)."""
    scope = actor.scope
    size = int(item.declared_size)
    try:
        repository.create_upload(actor, item, storage.quota(scope), lambda: storage.refusal(scope, size))
    except storage.StorageQuotaExceededError:
        if not reclaim_stale(scope):
            raise
        repository.create_upload(actor, item, storage.quota(scope), lambda: storage.refusal(scope, size))


def reclaim_stale(scope: Scope) -> int:
    """Drop up to :data:`RECLAIM_BATCH` uploads that never arrived and whose URLs expired long ago, giving their
    reservations back; answers how many (one Query, then one transaction each)."""
    before = iso(utcnow() - STALE_AFTER)
    reclaimed = 0
    for item in repository.stale_uploads(scope, before, RECLAIM_BATCH):
        try:
            if item.upload == "multipart" and item.upload_id:
                files.abort_multipart(item.object_key, item.upload_id)
            repository.cancel_upload(System(scope), item, storage.quota(scope), action="file.expire_upload")
            reclaimed += 1
        except DomainError as error:  # it arrived (or was cancelled) meanwhile
            logger.info("stale upload not reclaimed", extra={"file_id": item.file_id, "reason": error.detail})
    return reclaimed


def start_upload(actor: Actor, request: FileUploadRequest) -> tuple[File, dict[str, Any]]:
    """A pending file and a presigned POST for its bytes (that type only, 1 byte to the declared size)."""
    item = _pending(actor, request, multipart=False, expires_in=UPLOAD_EXPIRES_SECONDS)
    _reserve(actor, item)
    post = files.presigned_upload(item.object_key, request.content_type, request.size, UPLOAD_EXPIRES_SECONDS)
    return item, post


def part_size(size: int) -> int:
    """The size of every part but the last: 8 MiB, or more so that a file needs at most MAX_PART_URLS parts."""
    return max(MIN_PART_BYTES, math.ceil(size / MAX_PART_URLS / (1024 * 1024)) * 1024 * 1024)


def start_multipart(actor: Actor, request: FileUploadRequest) -> tuple[File, int, list[tuple[int, str]]]:
    """A pending file, its multipart upload and a presigned PUT per part."""
    item = _pending(actor, request, multipart=True, expires_in=MULTIPART_EXPIRES_SECONDS)
    item.upload_id = files.start_multipart(item.object_key, request.content_type)
    try:
        _reserve(actor, item)
    except DomainError:
        files.abort_multipart(item.object_key, item.upload_id)
        raise
    chunk = part_size(request.size)
    count = math.ceil(request.size / chunk)
    urls = [
        (n, files.part_url(item.object_key, item.upload_id, n, MULTIPART_EXPIRES_SECONDS)) for n in range(1, count + 1)
    ]
    return item, chunk, urls


def _multipart(actor: Actor, file_id: str, version: int | None) -> File:
    item = repository.file(_scope(actor), file_id)
    if item.upload != "multipart" or item.status != "pending" or not item.upload_id:
        raise ConflictError(
            f"the file is {item.status}, not a multipart upload in progress",
            errors=[FieldProblem("status", item.status)],
        )
    expect_version(item, version)
    return item


def complete_multipart(actor: Actor, file_id: str, request: CompleteMultipartRequest) -> File:
    """Complete the upload from its parts (S3 checks their ETags); the S3 event then settles the file."""
    item = _multipart(actor, file_id, request.version)
    if not request.key.startswith(f"{actor.scope.tenant_id}/files/"):
        raise _invalid("key", "not a key of this organisation's files")
    if request.key != item.object_key:
        raise _invalid("key", "not the key this upload was started with")
    if request.upload_id != item.upload_id:
        raise _invalid("upload_id", "not the id of this file's upload")
    numbers = [p.part_number for p in request.parts]
    if numbers != sorted(set(numbers)):
        raise _invalid("parts", "part numbers must be ascending, each once")
    held = files.uploaded_parts(item.object_key, item.upload_id)
    if held is None:
        raise ConflictError("the upload is gone (completed or aborted already)")
    by_number = {p.part_number: p for p in held}
    missing = [n for n in numbers if n not in by_number]
    if missing:
        raise _invalid("parts", f"S3 holds no part {missing[0]} of this upload")
    wrong = [p.part_number for p in request.parts if by_number[p.part_number].etag.strip('"') != p.etag.strip('"')]
    if wrong:
        raise _invalid("parts", f"part {wrong[0]}'s ETag is not the one S3 answered for it")
    total = sum(by_number[n].size for n in numbers)
    if total > int(item.declared_size):
        raise PayloadTooLargeError(
            f"the parts hold {total} bytes, more than the {int(item.declared_size)} declared",
            errors=[FieldProblem("parts", f"{total} bytes: more than the {int(item.declared_size)} declared")],
        )
    files.complete_multipart(item.object_key, item.upload_id, [(n, by_number[n].etag) for n in numbers])
    return item


def abort_multipart(actor: Actor, file_id: str, version: int | None) -> None:
    def attempt() -> None:
        item = _multipart(actor, file_id, version)
        files.abort_multipart(item.object_key, str(item.upload_id))
        repository.cancel_upload(actor, item, storage.quota(actor.scope), action="file.abort_upload")

    _retrying(version, attempt)


# -- reads ---------------------------------------------------------------------------------
def get_file(actor: Actor, file_id: str) -> File:
    return repository.file(_scope(actor), file_id)


def list_files(
    actor: Actor,
    *,
    folder_id: str | None,
    sort: Sort,
    order: Order,
    q: str | None,
    deleted: bool,
    limit: int,
    cursor: str | None,
) -> tuple[list[File], str | None]:
    """A page of a folder's files (ready and quarantined ones) in one order, names starting with `q`
    (case-insensitive); or of the recycle bin, newest deletion first by default. One Query."""
    scope = _scope(actor)
    if folder_id is not None and not deleted:
        repository.folder(scope, folder_id)
    wanted = {"route": "files", "folder": folder_id, "sort": sort, "order": order, "q": q, "deleted": deleted}
    query = cursors.fingerprint(wanted)
    start = cursors.decode(scope, query, cursor)
    prefix = name_key(q) if q else None
    range_condition: Condition | None = None
    filter_condition: Condition | None = None
    if deleted:
        partition, index, ascending = keys.deleted_files(scope), "gsi1", order == "asc"  # by deletion time
        if prefix:
            filter_condition = File.name_key.startswith(prefix)
    else:
        partition, index, ascending = keys.folder_files(scope, folder_id), _INDEX[sort], order == "asc"
        if prefix and sort == "name":
            range_condition = File.gsi1sk.startswith(prefix)
        elif prefix:
            filter_condition = File.name_key.startswith(prefix)
    items, last = repository.files_page(
        scope, partition, index, range_condition, filter_condition, ascending, limit, start
    )
    return items, cursors.encode(scope, query, last)


def download(actor: Actor, file_id: str) -> tuple[File, str, str]:
    """A short-lived link to a ready file's settled bytes, as an attachment under its name."""
    item = repository.file(_scope(actor), file_id)
    if item.status != "ready":
        raise ConflictError(
            f"the file is {item.status}: only ready files are served"
            + (f" ({item.quarantine_reason})" if item.quarantine_reason else ""),
            errors=[FieldProblem("status", item.status)],
        )
    content_type = item.content_type or "application/octet-stream"
    url = files.download_url(
        item.object_key,
        DOWNLOAD_EXPIRES_SECONDS,
        item.name,
        content_type=content_type,
        version_id=item.object_version,
    )
    return item, url, content_type


def usage(actor: Actor) -> storage.Usage:
    return storage.usage(_scope(actor))


# -- changes of a file -------------------------------------------------------------------------
def update_file(actor: Actor, file_id: str, request: UpdateFileRequest) -> File:
    scope = _scope(actor)
    item = repository.file(scope, file_id)
    expect_version(item, request.version)
    if item.status == "deleted":
        raise ConflictError("the file is deleted: restore it first", errors=[FieldProblem("status", "deleted")])
    given = request.model_fields_set
    before, old_folder = item.snapshot(), item.folder_id
    if "name" in given and request.name is not None:
        extension = os.path.splitext(request.name)[1].lower()
        if extension and extension in set(files.settings(scope).blocked_extensions or []):
            raise _invalid("name", f"files ending in {extension} are not accepted by this organisation")
        item.rename(request.name)
    if "folder_id" in given and request.folder_id != item.folder_id:
        _folder_or_422(scope, request.folder_id, "folder_id")
        item.folder_id = request.folder_id
    if item.snapshot() == before:
        return item
    if item.status == "pending":
        item.hold_pending(scope)
    else:
        item.list_in_folder(scope)
    item.updated_by = actor.user_id
    repository.rename_or_move(actor, item, before, old_folder)
    return item


def delete_file(actor: Actor, file_id: str, version: int | None) -> None:
    """Soft-delete a file (restorable for RETENTION_DAYS); a pending upload is cancelled outright."""
    _retrying(version, lambda: _delete_file(actor, file_id, version))


def _delete_file(actor: Actor, file_id: str, version: int | None) -> None:
    scope = _scope(actor)
    item = repository.file(scope, file_id)
    expect_version(item, version)
    if item.status == "deleted":
        return
    if item.status == "pending":
        if item.upload == "multipart" and item.upload_id:
            files.abort_multipart(item.object_key, item.upload_id)
        repository.cancel_upload(actor, item, storage.quota(scope))
        return
    before = item.snapshot()
    now = utcnow()
    released = int(item.size or 0) if item.charged else 0
    item.status_before_delete, item.status = item.status, "deleted"
    item.deleted_at, item.deleted_by, item.updated_by = now, actor.user_id, actor.user_id
    item.ttl = now + RETENTION
    item.charged = False
    item.put_in_bin(scope, now)
    item.delete_marker = files.hide_object(item.object_key)
    try:
        repository.soft_delete(actor, item, before, storage.quota(scope), released)
    except Exception:
        if item.delete_marker:
            files.unhide_object(item.object_key, item.delete_marker)
        raise
    storage.check_warning(scope)


def restore_file(actor: Actor, file_id: str, version: int | None) -> File:
    """Bring a deleted file back (into its folder, or the root if the folder is gone), within the retention."""
    return _retrying(version, lambda: _restore_file(actor, file_id, version))


def _restore_file(actor: Actor, file_id: str, version: int | None) -> File:
    scope = _scope(actor)
    item = repository.file(scope, file_id)
    expect_version(item, version)
    if item.status != "deleted":
        raise ConflictError(f"the file is {item.status}, not deleted", errors=[FieldProblem("status", item.status)])
    if item.deleted_at is None or utcnow() >= item.deleted_at + RETENTION:
        raise ConflictError(f"the file was deleted more than {RETENTION_DAYS} days ago and cannot be restored")
    before = item.snapshot()
    if item.folder_id is not None and repository.find_folder(scope, item.folder_id) is None:
        item.folder_id = None
    item.status, item.status_before_delete = item.status_before_delete or "ready", None
    item.deleted_at = item.deleted_by = item.ttl = None
    item.updated_by = actor.user_id
    item.charged = item.size is not None
    charged = int(item.size or 0) if item.charged else 0
    item.list_in_folder(scope)
    marker, item.delete_marker = item.delete_marker, None
    repository.restore(
        actor, item, before, storage.quota(scope), charged, lambda: storage.refusal(scope, charged, "size")
    )
    if marker:
        files.unhide_object(item.object_key, marker)
    return item


# -- folders ---------------------------------------------------------------------------------
def list_folders(
    actor: Actor, parent_id: str | None, limit: int, cursor: str | None
) -> tuple[list[Folder], str | None]:
    scope = _scope(actor)
    if parent_id is not None:
        repository.folder(scope, parent_id)
    query = cursors.fingerprint({"route": "folders", "parent": parent_id})
    items, last = repository.children_page(scope, parent_id, limit, cursors.decode(scope, query, cursor))
    return items, cursors.encode(scope, query, last)


def get_folder(actor: Actor, folder_id: str) -> tuple[Folder, list[Folder]]:
    scope = _scope(actor)
    item = repository.folder(scope, folder_id)
    above = repository.folders(scope, item.ancestor_ids)
    return item, [above[a] for a in item.ancestor_ids if a in above]


def create_folder(actor: Actor, request: CreateFolderRequest) -> Folder:
    scope = _scope(actor)
    parent = _folder_or_422(scope, request.parent_id, "parent_id")
    if parent is not None and int(parent.depth) >= MAX_DEPTH:
        raise _invalid("parent_id", f"folders nest at most {MAX_DEPTH} deep")
    item = Folder.new(
        scope,
        new_id(),
        parent.path if parent else None,
        name=request.name,
        entries=0,
        created_by=actor.user_id,
        updated_by=actor.user_id,
    )
    repository.create_folder(actor, item)
    return item


def update_folder(actor: Actor, folder_id: str, request: UpdateFolderRequest) -> Folder:
    """Rename and / or move a folder with its sub-folders (never into its own subtree)."""
    scope = _scope(actor)
    item = repository.folder(scope, folder_id)
    expect_version(item, request.version)
    given = request.model_fields_set
    before, old_parent = item.snapshot(), item.parent_id
    moved: list[Folder] = []
    if "name" in given and request.name is not None:
        item.name = request.name
    if "parent_id" in given and request.parent_id != item.parent_id:
        parent = _folder_or_422(scope, request.parent_id, "parent_id")
        if parent is not None and parent.path.startswith(item.path):
            raise _invalid("parent_id", "a folder cannot move into itself or one of its sub-folders")
        old_path, new_path = item.path, f"{parent.path if parent else '/'}{item.folder_id}/"
        tree = repository.subtree(scope, old_path, MAX_MOVE)
        if len(tree) > MAX_MOVE:
            raise ConflictError(f"a folder with more than {MAX_MOVE - 1} sub-folders cannot be moved at once")
        shift = len(new_path.strip("/").split("/")) - int(item.depth)
        if max(int(f.depth) for f in tree) + shift > MAX_DEPTH:
            raise _invalid("parent_id", f"folders nest at most {MAX_DEPTH} deep")
        for descendant in tree:
            if descendant.folder_id != item.folder_id:
                descendant.relocate(scope, new_path + descendant.path[len(old_path) :])
                moved.append(descendant)
        item.relocate(scope, new_path)
    else:
        item.relocate(scope, item.path)  # a new name: a new place among its siblings
    if item.snapshot() == before:
        return item
    item.updated_by = actor.user_id
    repository.update_folders(actor, item, before, moved, old_parent)
    return item


def delete_folder(actor: Actor, folder_id: str, version: int | None) -> None:
    _retrying(version, lambda: _delete_folder(actor, folder_id, version))


def _delete_folder(actor: Actor, folder_id: str, version: int | None) -> None:
    scope = _scope(actor)
    item = repository.folder(scope, folder_id)
    expect_version(item, version)
    if int(item.entries or 0) > 0:
        raise ConflictError(f"{repository.NOT_EMPTY} ({int(item.entries)} entries)")
    repository.delete_folder(actor, item)


# -- settings --------------------------------------------------------------------------------
def get_settings(actor: Actor) -> FileSettings:
    return files.settings(_scope(actor))


def update_settings(actor: Actor, request: FileSettingsUpdateRequest) -> FileSettings:
    scope = _scope(actor)
    stored = repository.settings(scope)
    item = stored or FileSettings.defaults(scope)
    expect_version(item, request.version)
    before = item.snapshot() if stored else None
    given = request.model_fields_set
    if "blocked_types" in given and request.blocked_types is not None:
        item.blocked_types = sorted(set(request.blocked_types))
    if "blocked_extensions" in given and request.blocked_extensions is not None:
        item.blocked_extensions = sorted(set(request.blocked_extensions))
    if "max_file_bytes" in given and request.max_file_bytes is not None:
        item.max_file_bytes = request.max_file_bytes
    if "kkfileview_base_url" in given:
        item.kkfileview_base_url = request.kkfileview_base_url
    if stored is not None and item.snapshot() == before:
        return item
    item.updated_by = actor.user_id
    repository.save_settings(actor, item, before, new=stored is None)
    return item
