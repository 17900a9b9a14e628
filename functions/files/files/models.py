"""Request and response bodies of the file, folder and storage routes."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field
from riveredge.clock import iso
from riveredge.db.files import File, FileSettings, Folder
from riveredge.schemas import RequestModel, ResponseModel, StoredObject, stored_fields

MAX_NAME_CHARS = 255
MAX_PARTS = 10_000  # S3's limit of parts of one multipart upload
_ULID = r"^[0-9A-HJKMNP-TV-Z]{26}$"


def display_name(value: str) -> str:
    """A file or folder name: display only, but never a path (no separators, no `..`, no control characters)."""
    if value in {".", ".."} or ".." in value:
        raise ValueError("may not contain '..'")
    if "/" in value or "\\" in value:
        raise ValueError("may not contain '/' or '\\'")
    if any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in value):
        raise ValueError("may not contain control or invisible formatting characters")
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS), AfterValidator(display_name)]
MediaType = Annotated[
    str,
    BeforeValidator(_lower),
    Field(
        pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$",
        description="The file's media type as the browser reports it (`application/pdf`)",
    ),
]
Id = Annotated[str, Field(pattern=_ULID)]
Size = Annotated[int, Field(ge=1, le=5 * 1024**4, description="Bytes")]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]


def _kkfileview(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an http or https URL")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("may not carry a user, a query or a fragment")
    return value.rstrip("/")


BaseUrl = Annotated[str, Field(min_length=8, max_length=500), AfterValidator(_kkfileview)]
Extension = Annotated[str, BeforeValidator(_lower), Field(pattern=r"^\.[a-z0-9_+-]{1,15}$")]


class FileUploadRequest(RequestModel):
    name: Name
    content_type: MediaType
    size: Size = Field(description="The file's size in bytes: the upload may not be larger, and reserves it")
    folder_id: Id | None = Field(default=None, description="The folder it goes in (none: the root)")


class FileUploadForm(ResponseModel):
    url: str = Field(description="POST the form here: the fields below, then the file as `file`")
    fields: dict[str, str]
    key: str
    expires_in: int
    max_bytes: int


class UploadPartUrl(ResponseModel):
    part_number: int
    url: str = Field(description="PUT the part's bytes here; keep the answer's ETag for complete")


class FileResponse(StoredObject):
    name: str
    folder_id: str | None = None
    status: Literal["pending", "ready", "quarantined", "deleted"]
    declared_type: str
    declared_size: int
    content_type: str | None = Field(default=None, description="Sniffed from the bytes once the upload arrived")
    size: int | None = None
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    quarantine_reason: str | None = None
    upload: Literal["post", "multipart"]
    created_by: str | None = None
    updated_by: str | None = None
    deleted_at: str | None = None
    restorable_until: str | None = None
    preview_status: str | None = None

    @classmethod
    def of(cls, item: File, restorable_until: str | None = None) -> FileResponse:
        return cls(
            **stored_fields(item, item.file_id),
            name=item.name,
            folder_id=item.folder_id,
            status=item.status,  # type: ignore[arg-type]  # written only by this function and its consumer
            declared_type=item.declared_type,
            declared_size=int(item.declared_size),
            content_type=item.content_type,
            size=None if item.size is None else int(item.size),
            sha256=item.sha256,
            width=None if item.width is None else int(item.width),
            height=None if item.height is None else int(item.height),
            quarantine_reason=item.quarantine_reason,
            upload=item.upload,  # type: ignore[arg-type]
            created_by=item.created_by,
            updated_by=item.updated_by,
            deleted_at=iso(item.deleted_at) if item.deleted_at else None,
            restorable_until=restorable_until,
            preview_status=item.preview_status,
        )


class FileUploadResponse(ResponseModel):
    file: FileResponse
    upload: FileUploadForm


class MultipartUploadResponse(ResponseModel):
    file: FileResponse
    key: str
    upload_id: str
    part_size: int = Field(description="Every part but the last has exactly this many bytes")
    parts: list[UploadPartUrl]
    expires_in: int


class CompletedPart(RequestModel):
    part_number: Annotated[int, Field(ge=1, le=MAX_PARTS)]
    etag: Annotated[str, Field(min_length=1, max_length=128)]


class CompleteMultipartRequest(RequestModel):
    key: Annotated[str, Field(min_length=1, max_length=300, description="The key the upload was started with")]
    upload_id: Annotated[str, Field(min_length=1, max_length=1024)]
    parts: Annotated[list[CompletedPart], Field(min_length=1, max_length=MAX_PARTS)]
    version: Version | None = None


class UpdateFileRequest(RequestModel):
    """Rename and / or move a file: fields left out stay; `folder_id: null` moves it to the root."""

    version: Version
    name: Name | None = None
    folder_id: Id | None = None


class FileListResponse(ResponseModel):
    items: list[FileResponse]
    next_cursor: str | None = None


class FileDownloadResponse(ResponseModel):
    url: str = Field(description="A presigned GET of the file, answering it as an attachment under its name")
    expires_in: int
    filename: str
    content_type: str


class FileStorageAmounts(ResponseModel):
    used: int
    reserved: int = Field(description="Held by uploads that were presigned and have not arrived yet")
    limit: int
    available: int


class StorageUsageResponse(ResponseModel):
    bytes: FileStorageAmounts
    count: FileStorageAmounts
    limit_source: Literal["tier", "operator"]
    used_percent: float = Field(description="The larger of bytes and files used, as a percentage of the limit")


class CreateFolderRequest(RequestModel):
    name: Name
    parent_id: Id | None = Field(default=None, description="The folder it goes in (none: the root)")


class UpdateFolderRequest(RequestModel):
    """Rename and / or move a folder: fields left out stay; `parent_id: null` moves it to the root."""

    version: Version
    name: Name | None = None
    parent_id: Id | None = None


class FolderResponse(StoredObject):
    name: str
    parent_id: str | None = None
    path: list[str] = Field(description="The ids from the root down to this folder")
    depth: int
    entries: int = Field(description="Sub-folders and files in it (not deleted ones)")
    created_by: str | None = None
    updated_by: str | None = None

    @classmethod
    def of(cls, item: Folder) -> FolderResponse:
        return cls(
            **stored_fields(item, item.folder_id),
            name=item.name,
            parent_id=item.parent_id,
            path=item.path.strip("/").split("/"),
            depth=int(item.depth),
            entries=int(item.entries or 0),
            created_by=item.created_by,
            updated_by=item.updated_by,
        )


class FolderDetailResponse(FolderResponse):
    ancestors: list[FolderResponse] = Field(description="The folders above it, the root first (breadcrumbs)")


class FolderListResponse(ResponseModel):
    items: list[FolderResponse]
    next_cursor: str | None = None


class FileSettingsUpdateRequest(RequestModel):
    """Fields left out stay as they are; `kkfileview_base_url: null` turns kkFileView previews off."""

    version: Version
    blocked_types: Annotated[list[MediaType], Field(max_length=100)] | None = Field(
        default=None, description="Sniffed media types that are quarantined (default: programs)"
    )
    blocked_extensions: Annotated[list[Extension], Field(max_length=100)] | None = Field(
        default=None, description="Name endings an upload is refused for (`.exe`)"
    )
    max_file_bytes: (
        Annotated[int, Field(ge=1, le=1024**4, description="At most 1 TiB (parts stay under S3's 5 GiB)")] | None
    ) = None
    kkfileview_base_url: BaseUrl | None = Field(
        default=None, description="The organisation's kkFileView (`https://preview.example.com`) for office files"
    )


class FileSettingsResponse(ResponseModel):
    blocked_types: list[str]
    blocked_extensions: list[str]
    max_file_bytes: int
    kkfileview_base_url: str | None = None
    version: int = Field(description="0 while the defaults apply")
    updated_at: str | None = None

    @classmethod
    def of(cls, item: FileSettings) -> FileSettingsResponse:
        return cls(
            blocked_types=list(item.blocked_types or []),
            blocked_extensions=list(item.blocked_extensions or []),
            max_file_bytes=item.file_limit,
            kkfileview_base_url=item.kkfileview_base_url,
            version=int(item.version or 0),
            updated_at=iso(item.updated_at) if item.updated_at and item.version else None,
        )
