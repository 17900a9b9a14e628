"""Request and response bodies of the data source routes."""

from __future__ import annotations

import ssl
from typing import Annotated, Literal

from pydantic import Field, model_validator
from riveredge.schemas import RequestModel, ResponseModel

Name = Annotated[str, Field(min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=500)]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
Secret = Annotated[
    str, Field(min_length=1, max_length=4096, description="Write-only: the password or token, never answered")
]
Host = Annotated[
    str,
    Field(
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9._:\[\]-]+$",
        description="A host name or IP address; internal addresses only when on the tenant's outbound allow-list",
    ),
]
Port = Annotated[int, Field(ge=1, le=65535)]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
ConnectTimeout = Annotated[int, Field(ge=100, le=30_000, description="How long connecting may take, in ms")]
Url = Annotated[str, Field(min_length=1, max_length=2048, description="An http(s) URL")]
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,64}$")]
HeaderValue = Annotated[str, Field(max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")]
# Headers a source may not set itself: the request's framing, and what its authentication sets.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "content-type", "authorization", "cookie"}
)


class DatabaseConfig(RequestModel):
    host: Host
    database: Identifier
    username: Identifier = Field(
        description="A user that may only read (SELECT): queries run read-only, but what the user may do on its own"
        " server (read files, run programs) is for the server to refuse"
    )
    ssl: bool = Field(
        default=False,
        description="Require TLS and check the server's certificate and name (false: TLS when the server offers it,"
        " unchecked)",
    )
    ca_certificate: Annotated[str, Field(min_length=1, max_length=65_536)] | None = Field(
        default=None,
        description="PEM certificates of the authorities the server's certificate must chain to, instead of the"
        " public ones (e.g. Amazon RDS's bundle); needs ssl",
    )
    connect_timeout_ms: ConnectTimeout = 5000

    @model_validator(mode="after")
    def _ca_needs_ssl(self) -> DatabaseConfig:
        if self.ca_certificate is not None:
            if not self.ssl:
                raise ValueError("ca_certificate needs ssl: true")
            try:
                ssl.create_default_context(cadata=self.ca_certificate)
            except (ssl.SSLError, ValueError, TypeError):  # TypeError: not ASCII (PEM is)
                raise ValueError("ca_certificate is not PEM certificates") from None
        return self


class PostgresConfig(DatabaseConfig):
    type: Literal["postgresql"]
    port: Port = 5432


class MysqlConfig(DatabaseConfig):
    type: Literal["mysql"]
    port: Port = 3306


class HttpConfig(RequestModel):
    type: Literal["http"]
    base_url: Url
    headers: dict[HeaderName, HeaderValue] = Field(
        default_factory=dict, max_length=20, description="Sent with every call; not secret (they are answered)"
    )
    auth: Literal["none", "bearer", "basic", "header"] = Field(
        default="none", description="How the secret is sent: Bearer token, Basic (username + secret), a header"
    )
    auth_header: HeaderName | None = Field(default=None, description="The header the secret goes in (auth=header)")
    username: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^:\x00-\x1f\x7f]+$")] | None = None
    connect_timeout_ms: ConnectTimeout = 5000

    @model_validator(mode="after")
    def _auth_fields(self) -> HttpConfig:
        reserved = sorted(name for name in self.headers if name.lower() in RESERVED_HEADERS)
        if reserved:
            raise ValueError(f"headers must not set {', '.join(reserved)}")
        if self.auth == "header" and not self.auth_header:
            raise ValueError("auth_header is required when auth is header")
        if self.auth_header and self.auth_header.lower() in RESERVED_HEADERS - {"authorization"}:
            raise ValueError(f"auth_header must not be {self.auth_header}")
        if self.auth == "basic" and not self.username:
            raise ValueError("username is required when auth is basic")
        return self


Config = Annotated[PostgresConfig | MysqlConfig | HttpConfig, Field(discriminator="type")]


class CreateDataSourceRequest(RequestModel):
    name: Name
    description: Description | None = None
    config: Config
    secret: Secret | None = Field(
        default=None,
        description="The database password, or the API's token (bearer / header) or password (basic): write-only",
    )


class UpdateDataSourceRequest(RequestModel):
    """The fields to change; a new `secret` replaces the stored one. The type cannot change."""

    version: Version
    name: Name | None = None
    description: Description | None = None
    config: Config | None = None
    secret: Secret | None = None


class DataSourceResponse(ResponseModel):
    id: str
    name: str
    description: str | None = None
    type: str
    config: dict[str, object]
    secret: str | None = Field(description="`******` when a secret is set: never the secret")
    secret_updated_at: str | None = None
    created_at: str
    updated_at: str
    version: int


class DataSourceListResponse(ResponseModel):
    items: list[DataSourceResponse]


class DataSourceTestResponse(ResponseModel):
    ok: bool
    server_version: str | None = Field(description="The database's version (http: its Server header)")
    status: int | None = Field(default=None, description="http: the status of the GET of the base URL")
    latency_ms: float
    reason: str | None = Field(default=None, description="Why it failed: connect_failed, timeout, tls_failed...")
    error: str | None = None
