"""Request and response shapes shared by several functions."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from riveredge.clock import iso
from riveredge.db.models import Tenant, User

TENANT_CODE_PATTERN = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
RESERVED_TENANT_CODES = frozenset({"platform", "api", "admin", "www", "public", "system", "root"})
TenantTier = Literal["free", "standard", "enterprise"]
TenantStatus = Literal["provisioning", "active", "suspended", "failed"]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are refused, strings are trimmed."""

    # defer_build: a model's validator is built when a request first needs it, so a cold start
    # pays only for the models of the route it serves (docs/decisions/0005-cold-start.md).
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


def _not_reserved(code: str) -> str:
    if code in RESERVED_TENANT_CODES:
        raise ValueError(f"'{code}' is reserved")
    return code


TenantCodeField = Annotated[str, Field(pattern=TENANT_CODE_PATTERN, min_length=3, max_length=32)]
NewTenantCode = Annotated[TenantCodeField, AfterValidator(_not_reserved)]


_ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*$")


def time_zone_name(value: str) -> str:
    """An IANA time zone name that this runtime knows, or ValueError."""
    if not _ZONE_NAME.match(value) or value.lower() in {"localtime", "posixrules", "factory"}:
        raise ValueError("must be an IANA time zone name such as Asia/Shanghai")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError("must be an IANA time zone name such as Asia/Shanghai") from error
    return value


TimeZoneName = Annotated[str, Field(max_length=64, description="IANA: `Asia/Shanghai`"), AfterValidator(time_zone_name)]


def _time(value: datetime | None) -> str:
    return iso(value) if value else ""


class StoredObject(ResponseModel):
    id: str
    created_at: str
    updated_at: str
    version: int


def stored_fields(item: Any, object_id: str) -> dict[str, Any]:
    """The fields every stored object answers with: id, created_at, updated_at, version."""
    return {
        "id": object_id,
        "created_at": _time(item.created_at),
        "updated_at": _time(item.updated_at),
        "version": int(item.version or 0),
    }


class TenantResponse(StoredObject):
    code: str
    name: str
    tier: str
    status: str

    @classmethod
    def of(cls, tenant: Tenant) -> TenantResponse:
        return cls(
            id=tenant.tenant_id,
            code=tenant.code,
            name=tenant.name,
            tier=tenant.tier,
            status=tenant.status,
            created_at=_time(tenant.created_at),
            updated_at=_time(tenant.updated_at),
            version=int(tenant.version or 0),
        )


class UserResponse(StoredObject):
    email: str
    name: str
    status: str
    role_ids: list[str]
    created_by: str | None = None
    custom_fields: dict[str, Any] | None = Field(
        default=None, description="Values of the organisation's custom fields (on the account routes)"
    )

    @classmethod
    def of(cls, user: User, custom_fields: dict[str, Any] | None = None) -> UserResponse:
        return cls(
            id=user.user_id,
            email=user.email,
            name=user.name,
            status=user.status,
            role_ids=sorted(user.role_ids or []),
            created_by=user.created_by,
            custom_fields=custom_fields,
            created_at=_time(user.created_at),
            updated_at=_time(user.updated_at),
            version=int(user.version or 0),
        )
