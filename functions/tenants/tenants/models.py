"""Request and response bodies of the tenant routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from riveredge.emails import Email
from riveredge.passwords import DEFAULT_POLICY
from riveredge.schemas import NewTenantCode, RequestModel, ResponseModel, TenantResponse, TenantTier


class AdminRequest(RequestModel):
    email: Email
    name: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[
        str,
        Field(
            min_length=int(DEFAULT_POLICY["min_length"]),
            max_length=256,
            description="At least 10 characters, with a letter and a digit",
        ),
    ]


class CreateTenantRequest(RequestModel):
    code: NewTenantCode
    name: Annotated[str, Field(min_length=1, max_length=100)]
    tier: TenantTier = "standard"
    admin: AdminRequest


class TenantStatusRequest(RequestModel):
    version: int | None = Field(default=None, ge=0, description="The version you read; a stale one is a 412")


class TenantListResponse(ResponseModel):
    items: list[TenantResponse]
    next_cursor: str | None = None


class StorageQuotaRequest(RequestModel):
    """The tenant's storage limits; a limit left out (or null) is its tier's default."""

    version: int | None = Field(default=None, ge=0, description="The version you read; a stale one is a 412")
    limit_bytes: Annotated[int, Field(ge=0, le=1024**5)] | None = Field(
        default=None, description="Bytes the tenant may store (null: its tier's default)"
    )
    limit_count: Annotated[int, Field(ge=0, le=10**9)] | None = Field(
        default=None, description="Files the tenant may store (null: its tier's default)"
    )


class StorageAmounts(ResponseModel):
    used: int
    reserved: int
    limit: int
    available: int


class StorageQuotaResponse(ResponseModel):
    tenant_id: str
    bytes: StorageAmounts
    count: StorageAmounts
    limit_source: str = Field(description="tier: the tier's defaults; operator: set by an operator")
    version: int
