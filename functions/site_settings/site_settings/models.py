"""Request and response bodies of the site-settings routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from riveredge.passwords import EXPIRY_DAYS_MAX, HISTORY_MAX, MIN_LENGTH_RANGE
from riveredge.schemas import RequestModel, ResponseModel, TimeZoneName

SESSION_SECONDS_RANGE = (15 * 60, 30 * 24 * 3600)  # 15 minutes .. 30 days
IMAGE_TYPES: dict[str, tuple[str, ...]] = {
    "logo": ("image/png", "image/jpeg", "image/webp"),
    "favicon": ("image/png", "image/x-icon", "image/vnd.microsoft.icon"),
}
MAX_BYTES = {"logo": 1024 * 1024, "favicon": 256 * 1024}
ImageKind = Literal["logo", "favicon"]
ImageType = Literal["image/png", "image/jpeg", "image/webp", "image/x-icon", "image/vnd.microsoft.icon"]


Version = Annotated[int, Field(ge=0, description="The version you read (0 while none is stored); stale: 412")]
SystemName = Annotated[str, Field(min_length=1, max_length=60)]
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="`#rrggbb`")]
LoginTitle = Annotated[str, Field(min_length=1, max_length=100)]
LoginSubtitle = Annotated[str, Field(min_length=1, max_length=200)]
LoginFooter = Annotated[str, Field(min_length=1, max_length=500)]
LanguageTag = Annotated[
    str,
    Field(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        max_length=35,
        description="A language the organisation has on (see /api/languages)",
    ),
]
ObjectKey = Annotated[
    str, Field(min_length=1, max_length=300, description="The key POST /api/site-settings/uploads answered")
]
MinLength = Annotated[int, Field(ge=MIN_LENGTH_RANGE[0], le=MIN_LENGTH_RANGE[1])]
SessionSeconds = Annotated[
    int,
    Field(
        ge=SESSION_SECONDS_RANGE[0],
        le=SESSION_SECONDS_RANGE[1],
        description="How long a sign-in lasts before the next one is needed (900 .. 2592000 seconds)",
    ),
]


class PasswordPolicyUpdate(RequestModel):
    """Fields left out (or null) stay as they are."""

    min_length: MinLength | None = None
    require_letter: bool | None = None
    require_upper: bool | None = None
    require_lower: bool | None = None
    require_digit: bool | None = None
    require_symbol: bool | None = Field(default=None, description="Anything but A-Z, a-z and 0-9")
    min_classes: Annotated[int, Field(ge=0, le=4)] | None = Field(
        default=None, description="At least this many of: upper-case, lower-case, digits, symbols"
    )
    history: Annotated[int, Field(ge=0, le=HISTORY_MAX)] | None = Field(
        default=None, description="The last n passwords (the current one included) may not be used again"
    )
    expiry_days: Annotated[int, Field(ge=0, le=EXPIRY_DAYS_MAX)] | None = Field(
        default=None, description="A password older than this is changed at the next sign-in (0: never)"
    )


class SiteSettingsUpdateRequest(RequestModel):
    """Fields left out stay as they are; `null` clears the logo, the favicon and the login texts."""

    version: Version
    system_name: SystemName | None = None
    logo_key: ObjectKey | None = None
    favicon_key: ObjectKey | None = None
    primary_color: Colour | None = None
    login_title: LoginTitle | None = None
    login_subtitle: LoginSubtitle | None = None
    login_footer: LoginFooter | None = None
    default_language: LanguageTag | None = None
    time_zone: TimeZoneName | None = None
    password_policy: PasswordPolicyUpdate | None = None
    session_seconds: SessionSeconds | None = None


class PasswordRules(ResponseModel):
    """What a new password must be (what a sign-up or reset page tells its user)."""

    min_length: int
    require_letter: bool
    require_upper: bool
    require_lower: bool
    require_digit: bool
    require_symbol: bool
    min_classes: int


class PasswordPolicyResponse(PasswordRules):
    history: int
    expiry_days: int


class SiteSettingsResponse(ResponseModel):
    system_name: str
    logo_key: str | None = None
    logo_url: str | None = Field(default=None, description="A download link valid for two hours")
    favicon_key: str | None = None
    favicon_url: str | None = None
    primary_color: str
    login_title: str | None = None
    login_subtitle: str | None = None
    login_footer: str | None = None
    default_language: str
    time_zone: str
    password_policy: PasswordPolicyResponse
    session_seconds: int
    version: int = Field(description="0 while the defaults apply")
    updated_at: str | None = None


class SiteImageUploadRequest(RequestModel):
    kind: ImageKind
    content_type: ImageType = Field(description="logo: PNG, JPEG or WebP; favicon: PNG or ICO")


class SiteImageUploadResponse(ResponseModel):
    url: str = Field(description="POST the form here: the fields below, then the file as `file`")
    fields: dict[str, str]
    key: str = Field(description="Send it as logo_key / favicon_key to PUT /api/site-settings once uploaded")
    expires_in: int
    max_bytes: int


class TenantConfigResponse(ResponseModel):
    """What a login page shows, for anyone (no token): nothing else of the organisation."""

    tenant: str = Field(description="The organisation's code")
    system_name: str
    logo_url: str | None = None
    favicon_url: str | None = None
    primary_color: str
    login_title: str | None = None
    login_subtitle: str | None = None
    login_footer: str | None = None
    default_language: str
    password_rules: PasswordRules
