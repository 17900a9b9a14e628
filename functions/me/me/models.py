"""Request and response bodies of the personal-centre routes."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator
from riveredge.schemas import RequestModel, ResponseModel, StoredObject, TimeZoneName

AVATAR_TYPES = ("image/png", "image/jpeg", "image/webp")
AvatarType = Literal["image/png", "image/jpeg", "image/webp"]
Theme = Literal["light", "dark", "system"]

# language[-Script][-REGION]: en, zh-CN, zh-Hans-CN, es-419 (the common shapes of BCP 47)
_LANGUAGE_TAG = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")


def _language_tag(value: str) -> str:
    """A BCP 47 tag in its usual case (zh-cn -> zh-CN), or ValueError."""
    found = _LANGUAGE_TAG.match(value)
    if not found:
        raise ValueError("must be a BCP 47 language tag such as en or zh-CN")
    language, script, region = found.groups()
    return "-".join(p for p in (language.lower(), script and script.title(), region and region.upper()) if p)


Name = Annotated[str, Field(min_length=1, max_length=100)]
Bio = Annotated[str, Field(max_length=500)]
Phone = Annotated[
    str, Field(pattern=r"^\+?[0-9][0-9 ().\-]{2,30}$", description="Digits, spaces, ( ) . - and a leading +")
]
ContactKey = Annotated[str, Field(min_length=1, max_length=50)]
ContactValue = Annotated[str, Field(min_length=1, max_length=200)]
Contacts = Annotated[dict[ContactKey, ContactValue], Field(max_length=10, description="At most 10 entries")]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
LanguageTag = Annotated[str, Field(max_length=35), AfterValidator(_language_tag)]


class ProfileUpdateRequest(RequestModel):
    """Fields left out stay as they are; `null` clears bio, phone or contacts (a name cannot be cleared)."""

    name: Name | None = None
    bio: Bio | None = None
    phone: Phone | None = None
    contacts: Contacts | None = None
    version: Version

    @field_validator("name")
    @classmethod
    def _name_is_not_null(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("a name cannot be removed")
        return value


class ProfileResponse(StoredObject):
    email: str
    name: str
    bio: str | None = None
    phone: str | None = None
    contacts: dict[str, str]
    avatar_url: str | None = Field(default=None, description="A download link valid for 15 minutes")


class AvatarUploadRequest(RequestModel):
    content_type: AvatarType


class AvatarUploadResponse(ResponseModel):
    url: str = Field(description="POST the form here: the fields below, then the file as `file`")
    fields: dict[str, str]
    key: str = Field(description="Send it to PUT /api/me/avatar once the upload has succeeded")
    expires_in: int
    max_bytes: int


class AvatarConfirmRequest(RequestModel):
    key: Annotated[str, Field(min_length=1, max_length=300)]
    version: Version | None = None


class NotificationsUpdate(RequestModel):
    email: bool | None = None
    in_app: bool | None = None
    sms: bool | None = None


class PreferencesUpdateRequest(RequestModel):
    """Fields left out (or null) stay as they are."""

    theme: Theme | None = None
    language: LanguageTag | None = None
    timezone: TimeZoneName | None = None
    notifications: NotificationsUpdate | None = None
    version: Version = Field(description="The version you read (0 while none is stored); a stale one is a 412")


class NotificationsResponse(ResponseModel):
    email: bool
    in_app: bool
    sms: bool


class PreferencesResponse(ResponseModel):
    theme: Theme
    language: str
    timezone: str
    notifications: NotificationsResponse
    version: int = Field(description="0 while the defaults apply")
    updated_at: str | None = None


class PasswordChangeRequest(RequestModel):
    current_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Annotated[str, Field(min_length=1, max_length=256)]


class PasswordChangedResponse(ResponseModel):
    revoked_sessions: int = Field(description="How many other sessions were signed out")
