"""The event the preview consumer handles."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FileStored(BaseModel):
    """``file.stored`` (riveredge.files, published by functions/file_events when a file is settled ``ready``)."""

    file_id: str = Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")
    object_key: str = Field(min_length=1, max_length=1024)
    content_type: str | None = Field(default=None, max_length=255)
    size: int = Field(ge=0)
    version: int | None = Field(default=None, ge=0)
