"""A tenant's files, folders, storage quota and file settings.

**Files.** One item per file, in a partition of its own (``keys.file``): a tenant's uploads spread over as
many partitions as it has files. Its object lives in the files bucket under ``object_key``
(``<tenant_id>/files/<file_id>/original``: never built from the user's name, which is display only). A file is
listed in its folder's partition (``keys.folder_files``) of three indexes, each a different order:

=====  ==============================  ===================================
index  partition                       sort key
=====  ==============================  ===================================
gsi1   ``<scope>FOLDER_FILES#<folder>``  ``<name key>#<file id>`` (by name)
gsi2   ``<scope>FOLDER_FILES#<folder>``  ``<size, 16 digits>#<file id>``
gsi3   ``<scope>FOLDER_FILES#<folder>``  ``<file id>`` (by creation: ULIDs)
=====  ==============================  ===================================

so a page of a folder in any order, or the names of a folder starting with a prefix, is one Query. While its
upload has not arrived (``pending``) a file is not listed: gsi1 holds it in ``<scope>FILES_PENDING`` by the
time its reservation goes stale, and gsi2 / gsi3 are empty. A soft-deleted file leaves its folder's listing
for ``<scope>FILES_DELETED`` (gsi1, by deletion time), the recycle bin.

``status``: ``pending`` (presigned, no object yet) | ``ready`` | ``quarantined`` (never served;
``quarantine_reason`` says why) | ``deleted`` (soft-deleted; restorable until ``ttl``). The S3 consumer
(functions/file_events) fills content_type (sniffed from the bytes), size, sha256, width / height and settles
the status; the preview consumer (functions/file_previews) owns the ``preview_*`` attributes.

**Folders.** A tree with a materialised path (``/<root id>/.../<own id>/``, the gsi1 sort key of
``<scope>FOLDER_TREE``) as departments have; a folder's sub-folders are its gsi2 partition
``<scope>FOLDER_CHILDREN#<parent>`` by name. ``entries`` counts a folder's sub-folders and files that are not
deleted, kept in step in the transaction of every write that adds or removes one, so "delete only when
empty" is one condition (``entries = 0``), not a Query racing an upload.

**Storage quota.** One item per tenant (:class:`StorageQuota`, written through :mod:`riveredge.storage`).

**File settings.** One versioned item per tenant (:class:`FileSettings`), read through
:func:`riveredge.files.settings` (the stored item, or the defaults).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from riveredge import keys
from riveredge.clock import iso
from riveredge.db.base import TableModel
from riveredge.scope import Scope

OBJECT_SUFFIX = "original"  # the last segment of every file's object key (the bucket notification's filter)
NAME_KEY_BYTES = 400  # the name part of a listing sort key (DynamoDB allows 1,024 bytes for the whole key)
SIZE_DIGITS = 16  # sizes in sort keys: zero-padded so they sort as numbers (up to 9.9 PB)

# What an organisation refuses by default: programs, whatever they are named (the issue: "executables").
DEFAULT_BLOCKED_TYPES: tuple[str, ...] = (
    "application/x-executable",  # ELF
    "application/x-sharedlib",
    "application/x-msdownload",  # PE: .exe / .dll
    "application/vnd.microsoft.portable-executable",
    "application/x-dosexec",
    "application/x-mach-binary",  # Mach-O
    "application/x-msi",
    "application/x-sh",  # a script with a #! line
    "application/x-shellscript",
    "application/x-bat",
    "application/vnd.android.package-archive",
    "application/java-archive",
)
DEFAULT_BLOCKED_EXTENSIONS: tuple[str, ...] = (
    ".exe",
    ".dll",
    ".com",
    ".scr",
    ".msi",
    ".bat",
    ".cmd",
    ".ps1",
    ".sh",
    ".apk",
    ".jar",
    ".elf",
    ".so",
    ".dylib",
)
DEFAULT_MAX_FILE_BYTES = 2 * 1024**3  # 2 GiB a file (S3 allows 5 GiB in one POST, 5 TiB multipart)
RETENTION_DAYS = 30  # a deleted file is restorable this long; the bucket's lifecycle rule expires it after


def name_key(name: str) -> str:
    """A display name as it sorts and is searched: case-folded, cut to :data:`NAME_KEY_BYTES` bytes of UTF-8."""
    folded = name.casefold().encode("utf-8", "ignore")[:NAME_KEY_BYTES]  # a lone surrogate (from a query) dropped
    return folded.decode("utf-8", "ignore")


class Gsi3(GlobalSecondaryIndex["File"]):
    """The third ordering of a folder's files (by creation); only files use it."""

    class Meta:
        index_name = "gsi3"
        projection = AllProjection()

    gsi3pk = UnicodeAttribute(hash_key=True)
    gsi3sk = UnicodeAttribute(range_key=True)


class File(TableModel, discriminator="file"):
    """One stored file (see the module's docstring for its keys and states)."""

    file_id = UnicodeAttribute()
    name = UnicodeAttribute()  # the original name: display only (and the download's Content-Disposition)
    name_key = UnicodeAttribute(null=True)  # name_key(name): what ?q= searches by prefix
    folder_id = UnicodeAttribute(null=True)  # None: the root
    object_key = UnicodeAttribute()  # <tenant_id>/files/<file_id>/original
    declared_type = UnicodeAttribute()  # what the uploader said (and the POST policy fixed)
    declared_size = NumberAttribute()  # what the upload reserved of the quota
    content_type = UnicodeAttribute(null=True)  # sniffed from the bytes; None until the S3 event
    size = NumberAttribute(null=True)  # the object's real size; None until the S3 event
    sha256 = UnicodeAttribute(null=True)  # hex
    width = NumberAttribute(null=True)
    height = NumberAttribute(null=True)
    status = UnicodeAttribute()  # pending | ready | quarantined | deleted
    quarantine_reason = UnicodeAttribute(null=True)
    upload = UnicodeAttribute(default="post")  # post | multipart
    upload_id = UnicodeAttribute(null=True)  # a multipart upload's id, until it completes or is aborted
    upload_expires_at = UTCDateTimeAttribute(null=True)  # after this a pending file's reservation is stale
    object_version = UnicodeAttribute(null=True)  # the S3 version the consumer settled
    stored_at = UTCDateTimeAttribute(null=True)
    deleted_at = UTCDateTimeAttribute(null=True)
    deleted_by = UnicodeAttribute(null=True)
    delete_marker = UnicodeAttribute(null=True)  # the S3 delete marker's version id (restore removes it)
    status_before_delete = UnicodeAttribute(null=True)  # ready | quarantined: what a restore brings back
    charged = BooleanAttribute(default=False)  # whether `size` counts in the quota's used bytes now
    created_by = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)
    # Owned by the preview consumer (functions/file_previews), written through riveredge.db.changes.change.
    preview_status = UnicodeAttribute(null=True)  # pending | ready | none | failed
    preview_key = UnicodeAttribute(null=True)  # <tenant_id>/previews/<file_id>/...
    preview_error = UnicodeAttribute(null=True)

    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi3 = Gsi3()

    noun: ClassVar[str] = "file"
    id_attribute: ClassVar[str] = "file_id"

    def snapshot(self) -> dict[str, Any]:
        """The file as the operation log shows it."""
        return {
            "name": self.name,
            "folder_id": self.folder_id,
            "status": self.status,
            "declared_type": self.declared_type,
            "declared_size": int(self.declared_size or 0),
            "content_type": self.content_type,
            "size": None if self.size is None else int(self.size),
            "sha256": self.sha256,
            "quarantine_reason": self.quarantine_reason,
        }

    @classmethod
    def new(cls, scope: Scope, file_id: str, **attributes: Any) -> File:
        key = keys.file(scope, file_id)
        return cls(key.pk, key.sk, file_id=file_id, **attributes)

    @staticmethod
    def object_key_for(scope: Scope, file_id: str) -> str:
        """Where a file's bytes live: under the tenant's prefix, named by the file's id only."""
        return f"{scope.tenant_id}/files/{file_id}/{OBJECT_SUFFIX}"

    def rename(self, name: str) -> None:
        self.name, self.name_key = name, name_key(name)

    def list_in_folder(self, scope: Scope) -> None:
        """Show the file in its folder's listing (all three orders); for a ready or quarantined file."""
        self.name_key = name_key(self.name)
        partition = keys.folder_files(scope, self.folder_id)
        size = int(self.size if self.size is not None else self.declared_size or 0)
        self.gsi1pk, self.gsi1sk = partition, f"{self.name_key}#{self.file_id}"
        self.gsi2pk, self.gsi2sk = partition, f"{size:0{SIZE_DIGITS}d}#{self.file_id}"
        self.gsi3pk, self.gsi3sk = partition, self.file_id

    def hold_pending(self, scope: Scope) -> None:
        """Keep a file whose upload has not arrived out of its folder's listing, in the pending partition."""
        expires = self.upload_expires_at
        self.gsi1pk = keys.pending_files(scope)
        self.gsi1sk = f"{iso(expires) if expires else ''}#{self.file_id}"
        self.gsi2pk = self.gsi2sk = self.gsi3pk = self.gsi3sk = None

    def put_in_bin(self, scope: Scope, deleted_at: datetime) -> None:
        """Move a soft-deleted file from its folder's listing into the recycle bin."""
        self.gsi1pk, self.gsi1sk = keys.deleted_files(scope), f"{iso(deleted_at)}#{self.file_id}"
        self.gsi2pk = self.gsi2sk = self.gsi3pk = self.gsi3sk = None


class Folder(TableModel, discriminator="folder"):
    """A folder of a tenant's file tree; ``path`` is ``/<root id>/.../<own id>/`` (the gsi1 sort key)."""

    folder_id = UnicodeAttribute()
    name = UnicodeAttribute()
    parent_id = UnicodeAttribute(null=True)
    path = UnicodeAttribute()
    depth = NumberAttribute()
    entries = NumberAttribute(default=0)  # sub-folders + files not deleted (kept in step by every write)
    created_by = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "folder"
    id_attribute: ClassVar[str] = "folder_id"

    def snapshot(self) -> dict[str, Any]:
        return {"name": self.name, "parent_id": self.parent_id, "path": self.path}

    @classmethod
    def new(cls, scope: Scope, folder_id: str, parent_path: str | None, **attributes: Any) -> Folder:
        """A folder under the folder at `parent_path` (None: the root)."""
        key = keys.folder(scope, folder_id)
        folder = cls(key.pk, key.sk, folder_id=folder_id, gsi1pk=keys.folder_tree_index(scope), **attributes)
        folder.relocate(scope, f"{parent_path or '/'}{folder_id}/")
        return folder

    def relocate(self, scope: Scope, path: str) -> None:
        """Put the folder at `path` (its parent is the path's last ancestor), with its tree and child keys."""
        self.path, self.gsi1sk = path, path
        ids = path.strip("/").split("/")
        self.depth = len(ids)
        self.parent_id = ids[-2] if len(ids) > 1 else None
        self.gsi2pk = keys.folder_children(scope, self.parent_id)
        self.gsi2sk = f"{name_key(self.name)}#{self.folder_id}"

    @property
    def ancestor_ids(self) -> list[str]:
        """The ids of the folders above this one, the root first."""
        return self.path.strip("/").split("/")[:-1]


class StorageQuota(TableModel, discriminator="storage_quota"):
    """A tenant's storage: limits, what settled objects use, what pending uploads reserve, and what is left.

    ``available_* = limit_* - used_* - reserved_*`` is kept as an attribute of its own because a DynamoDB
    condition cannot add: a reservation is one conditional update ``available_bytes >= :size``, so concurrent
    presigns never reserve more than the limit. See :mod:`riveredge.storage`.
    """

    tier = UnicodeAttribute(null=True)
    limit_bytes = NumberAttribute()
    limit_count = NumberAttribute()
    limit_source = UnicodeAttribute(default="tier")  # tier | operator
    used_bytes = NumberAttribute(default=0)
    used_count = NumberAttribute(default=0)
    reserved_bytes = NumberAttribute(default=0)
    reserved_count = NumberAttribute(default=0)
    available_bytes = NumberAttribute()
    available_count = NumberAttribute()
    warned = BooleanAttribute(default=False)  # the 80 % warning went out; re-armed below the threshold

    noun: ClassVar[str] = "storage quota"

    def snapshot(self) -> dict[str, Any]:
        return {
            "limit_bytes": int(self.limit_bytes),
            "limit_count": int(self.limit_count),
            "limit_source": self.limit_source,
        }

    @classmethod
    def new(cls, scope: Scope, **attributes: Any) -> StorageQuota:
        key = keys.storage_quota(scope)
        return cls(key.pk, key.sk, **attributes)


class FileSettings(TableModel, discriminator="file_settings"):
    """A tenant's file settings (one versioned item; :func:`riveredge.files.settings` answers the defaults
    for a tenant that never saved any)."""

    blocked_types = JSONAttribute(null=True)  # list of sniffed media types that are quarantined
    blocked_extensions = JSONAttribute(null=True)  # list of name endings refused at upload (".exe")
    max_file_bytes = NumberAttribute(null=True)
    kkfileview_base_url = UnicodeAttribute(null=True)  # the tenant's kkFileView (previews of office documents)
    updated_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "file settings"

    def snapshot(self) -> dict[str, Any]:
        return {
            "blocked_types": list(self.blocked_types or []),
            "blocked_extensions": list(self.blocked_extensions or []),
            "max_file_bytes": None if self.max_file_bytes is None else int(self.max_file_bytes),
            "kkfileview_base_url": self.kkfileview_base_url,
        }

    @classmethod
    def new(cls, scope: Scope, **attributes: Any) -> FileSettings:
        key = keys.file_settings(scope)
        return cls(key.pk, key.sk, **attributes)

    @classmethod
    def defaults(cls, scope: Scope) -> FileSettings:
        """The settings of a tenant that never saved any (not stored: version 0)."""
        return cls.new(
            scope,
            blocked_types=list(DEFAULT_BLOCKED_TYPES),
            blocked_extensions=list(DEFAULT_BLOCKED_EXTENSIONS),
            max_file_bytes=DEFAULT_MAX_FILE_BYTES,
            kkfileview_base_url=None,
        )

    @property
    def file_limit(self) -> int:
        return int(self.max_file_bytes if self.max_file_bytes is not None else DEFAULT_MAX_FILE_BYTES)
