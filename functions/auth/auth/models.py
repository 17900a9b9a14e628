"""Request and response bodies of the auth routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from riveredge.schemas import TENANT_CODE_PATTERN, RequestModel, ResponseModel, TenantResponse, UserResponse


class LoginRequest(RequestModel):
    tenant: Annotated[str, Field(pattern=f"{TENANT_CODE_PATTERN}|^platform$", max_length=32)]
    # Sign-in only looks an address up, so a light shape check is enough here; addresses are
    # validated in full where they are stored (riveredge.emails), and email-validator stays out
    # of this function's cold start.
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class ChangeExpiredPasswordRequest(RequestModel):
    """What sign-in takes, with the new password: for an account whose password has expired."""

    tenant: Annotated[str, Field(pattern=f"{TENANT_CODE_PATTERN}|^platform$", max_length=32)]
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
    current_password: Annotated[str, Field(min_length=1, max_length=256)]
    new_password: Annotated[
        str, Field(min_length=1, max_length=256, description="Must meet the organisation's password policy")
    ]


class RefreshRequest(RequestModel):
    refresh_token: Annotated[str, Field(min_length=1, max_length=512)]


class TokenResponse(ResponseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class PlatformScopeResponse(ResponseModel):
    id: Literal["platform"] = "platform"
    code: Literal["platform"] = "platform"
    name: str = "RiverEdge platform"


class MeResponse(ResponseModel):
    user: UserResponse
    tenant: TenantResponse | PlatformScopeResponse


class JsonWebKey(ResponseModel):
    kty: str
    crv: str
    x: str
    y: str
    kid: str
    alg: str
    use: str


class JwksResponse(ResponseModel):
    keys: list[JsonWebKey]
