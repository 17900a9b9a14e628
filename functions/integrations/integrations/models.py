"""Request and response bodies of the integration routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from riveredge.schemas import RequestModel, ResponseModel

Url = Annotated[str, Field(min_length=1, max_length=2048, description="An http(s) URL on the public internet")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
Secret = Annotated[str, Field(min_length=1, max_length=4096, description="Write-only: never answered")]
Scope_ = Annotated[str, Field(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]{1,200}$")]
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")]


class OAuth2Config(RequestModel):
    type: Literal["oauth2"]
    client_id: Annotated[str, Field(min_length=1, max_length=500)]
    authorization_url: Url | None = Field(default=None, description="Where people authorise (auth-code flows)")
    token_url: Url
    scopes: list[Scope_] = Field(default_factory=list, max_length=50)


class ApiConfig(RequestModel):
    type: Literal["api"]
    base_url: Url
    auth_header: HeaderName = Field(default="Authorization", description="The header the secret is sent in")
    auth_scheme: Annotated[str, Field(max_length=32, pattern=r"^[A-Za-z0-9-]*$")] = Field(
        default="Bearer", description="Put before the secret in the header ('' for none)"
    )


class WebhookConfig(RequestModel):
    type: Literal["webhook"]
    url: Url
    events: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.*-]{0,99}$")]] = Field(
        default_factory=list, max_length=100, description="The event types it receives (empty: every one)"
    )


Config = Annotated[OAuth2Config | ApiConfig | WebhookConfig, Field(discriminator="type")]


class CreateIntegrationRequest(RequestModel):
    name: Name
    config: Config
    secret: Secret | None = Field(
        default=None, description="client secret (oauth2, required), API key (api), signing secret (webhook, required)"
    )
    enabled: bool = True


class UpdateIntegrationRequest(RequestModel):
    """The fields to change; a new `secret` rotates it (the old one is kept by Secrets Manager as previous)."""

    version: Version
    name: Name | None = None
    config: Config | None = None
    secret: Secret | None = None
    enabled: bool | None = None


class IntegrationResponse(ResponseModel):
    id: str
    name: str
    type: str
    config: dict[str, object]
    enabled: bool
    secret: str | None = Field(description="`******` when a secret is set: never the secret")
    secret_updated_at: str | None = None
    created_at: str
    updated_at: str
    version: int


class IntegrationListResponse(ResponseModel):
    items: list[IntegrationResponse]


class IntegrationTestResponse(ResponseModel):
    ok: bool
    status: int | None = Field(description="The remote server's HTTP status (none when it was not reached)")
    latency_ms: float
    url: str
    error: str | None = None


class AllowListRequest(RequestModel):
    version: Version
    hosts: list[Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:/_-]+$")]] = Field(
        max_length=100, description="Host names or CIDR networks the tenant's outbound calls may reach"
    )


class AllowListResponse(ResponseModel):
    tenant_id: str
    hosts: list[str]
    version: int
