"""Request and response bodies of the file-link routes (previews and share links)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from riveredge.clock import iso
from riveredge.db.file_shares import FileShare
from riveredge.emails import Email
from riveredge.schemas import RequestModel, ResponseModel, StoredObject, stored_fields

MAX_NOTIFY = 20  # addresses a link may be mailed to when it is made
MAX_DOWNLOADS = 100_000
MAX_PASSWORD = 128

PreviewKind = Literal["image", "pdf", "kkfileview", "none"]
PreviewState = Literal["pending", "ready", "none", "failed"]
ShareState = Literal["active", "expired", "exhausted"]


class FilePreviewResponse(ResponseModel):
    file_id: str
    kind: PreviewKind = Field(
        description="image / pdf: our rendering (a thumbnail, the first page) at `url`; kkfileview: the tenant's "
        "kkFileView shows the file at `url`; none: no preview"
    )
    status: PreviewState = Field(description="pending: the rendering is not made yet (ask again); failed: see error")
    url: str | None = Field(default=None, description="Short-lived: ask again for a new one after expires_in")
    expires_in: int | None = Field(default=None, description="Seconds the url works for")
    error: str | None = Field(default=None, description="Why no preview could be made (status failed)")


Password = Annotated[str, Field(min_length=4, max_length=MAX_PASSWORD, description="Asked of whoever opens the link")]


class CreateFileShareRequest(RequestModel):
    password: Password | None = None
    expires_at: datetime | None = Field(
        default=None, description="When the link stops working (in the future, at most 365 days ahead)"
    )
    max_downloads: int | None = Field(default=None, ge=1, le=MAX_DOWNLOADS, description="Downloads the link allows")
    notify: list[Email] = Field(
        default_factory=list,
        max_length=MAX_NOTIFY,
        description="Mail the link to these addresses (the file_share_notification template; never the password)",
    )


class FileShareResponse(StoredObject):
    file_id: str
    state: ShareState = Field(description="active, expired (past expires_at) or exhausted (max_downloads reached)")
    password_protected: bool
    expires_at: str | None
    max_downloads: int | None
    downloads: int
    last_download_at: str | None
    notified: list[str]
    created_by: str

    @classmethod
    def of(cls, share: FileShare, state: ShareState) -> FileShareResponse:
        return cls(
            **stored_fields(share, share.share_id),
            file_id=share.file_id,
            state=state,
            password_protected=share.password_hash is not None,
            expires_at=iso(share.expires_at) if share.expires_at else None,
            max_downloads=int(share.max_downloads) if share.max_downloads is not None else None,
            downloads=int(share.downloads or 0),
            last_download_at=iso(share.last_download_at) if share.last_download_at else None,
            notified=sorted(share.notified or []),
            created_by=share.created_by,
        )


class CreatedFileShareResponse(FileShareResponse):
    token: str = Field(description="The link's secret: answered this once only (we keep only a digest of it)")
    url: str = Field(description="The public link (GET it: a redirect to the file; POST the password if it has one)")


class FileShareListResponse(ResponseModel):
    items: list[FileShareResponse]
    next_cursor: str | None = None


class FileShareDownloadResponse(ResponseModel):
    url: str = Field(description="A presigned GET of the file (attachment, its original name)")
    expires_in: int
