"""Request and response bodies of the API registry's routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, JsonValue
from riveredge.schemas import RequestModel, ResponseModel, StoredObject


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


Method = Annotated[Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], BeforeValidator(_upper)]
AuthType = Literal["none", "integration", "bearer", "api_key", "basic"]
Location = Literal["path", "query", "header"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Group = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
Tag = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f]+$")]
Description = Annotated[str, Field(max_length=4000)]
PathText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1000,
        description="An absolute http(s) URL, or a path (`/orders/{order_id}`) on the integration's base URL",
    ),
]
ParameterName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-\[\]]+$")]
HeaderName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
ResourceId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]
StatusKey = Annotated[str, Field(pattern=r"^([1-5][0-9]{2}|[1-5]XX|default)$")]
Schema = Annotated[dict[str, Any], Field(description="A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses)")]
Version = Annotated[int, Field(ge=0, description="The version you read; a stale one is a 412")]
Limit = 50  # parameters of one interface


class InterfaceParameterSpec(RequestModel):
    """A path, query or header parameter and the JSON Schema of its value."""

    model_config = ConfigDict(serialize_by_alias=True)

    name: ParameterName
    location: Location = Field(alias="in")
    required: bool = Field(default=False, description="Path parameters are always required")
    description: Description | None = None
    json_schema: Schema = Field(alias="schema", default_factory=lambda: {"type": "string"})


class InterfaceResponseSpec(RequestModel):
    """What the interface answers with one status code (or `2XX`, `default`)."""

    model_config = ConfigDict(serialize_by_alias=True)

    description: Annotated[str, Field(max_length=1000)] = ""
    json_schema: Schema | None = Field(alias="schema", default=None)


class CreateInterfaceRequest(RequestModel):
    name: Name
    group: Group = "default"
    description: Description | None = None
    method: Method
    path: PathText
    integration_id: ResourceId | None = Field(
        default=None, description="An integration whose base URL a relative path is on, and whose credentials it uses"
    )
    parameters: list[InterfaceParameterSpec] = Field(default_factory=list, max_length=Limit)
    request_body: Schema | None = Field(default=None, description="The JSON Schema of the application/json body")
    responses: dict[StatusKey, InterfaceResponseSpec] = Field(default_factory=dict, max_length=30)
    auth_type: AuthType = Field(
        default="none",
        description="integration: the integration's API key or OAuth 2 client-credentials token; bearer, "
        "api_key, basic: documented, and sent by the tester in `headers` of a test call",
    )
    api_key_header: HeaderName | None = Field(default=None, description="api_key only (default X-API-Key)")
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class UpdateInterfaceRequest(RequestModel):
    """The fields to change (`null` clears description, integration_id, request_body and api_key_header)."""

    version: Version
    name: Name | None = None
    group: Group | None = None
    description: Description | None = None
    method: Method | None = None
    path: PathText | None = None
    integration_id: ResourceId | None = None
    parameters: list[InterfaceParameterSpec] | None = Field(default=None, max_length=Limit)
    request_body: Schema | None = None
    responses: dict[StatusKey, InterfaceResponseSpec] | None = Field(default=None, max_length=30)
    auth_type: AuthType | None = None
    api_key_header: HeaderName | None = None
    tags: list[Tag] | None = Field(default=None, max_length=20)


class InterfaceParameterResponse(ResponseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    name: str
    location: Location = Field(alias="in")
    required: bool
    description: str | None = None
    json_schema: dict[str, Any] = Field(alias="schema")


class InterfaceResponseSpecResponse(ResponseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    description: str
    json_schema: dict[str, Any] | None = Field(alias="schema", default=None)


class InterfaceResponse(StoredObject):
    model_config = ConfigDict(serialize_by_alias=True)

    name: str
    group: str
    description: str | None
    method: str
    path: str
    integration_id: str | None
    parameters: list[InterfaceParameterResponse]
    request_body: dict[str, Any] | None
    responses: dict[str, InterfaceResponseSpecResponse]
    auth_type: str
    api_key_header: str | None
    tags: list[str]
    created_by: str | None
    updated_by: str | None


class InterfaceListResponse(ResponseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    items: list[InterfaceResponse]
    next_cursor: str | None = None


Scalar = str | int | float | bool
HeaderValue = Annotated[str, Field(max_length=4096, pattern=r"^[\t\x20-\x7e]*$", description="Printable ASCII")]


class InterfaceTestRequest(RequestModel):
    """The values of one test call, each checked against the interface's schemas before it is made."""

    path_params: dict[ParameterName, Scalar] = Field(
        default_factory=dict,
        max_length=Limit,
        description="Values as JSON; text is read as the schema's integer, number or boolean when it is one",
    )
    query: dict[ParameterName, Scalar | list[Scalar]] = Field(default_factory=dict, max_length=Limit)
    headers: dict[HeaderName, HeaderValue] = Field(
        default_factory=dict,
        max_length=Limit,
        description="Declared header parameters, and the credential of a bearer / api_key / basic interface "
        "(sent, never stored)",
    )
    body: JsonValue | None = Field(default=None, description="The JSON body (checked against request_body)")


class InterfaceSchemaProblem(ResponseModel):
    field: str
    message: str


class InterfaceTestRunResponse(ResponseModel):
    id: str
    interface_id: str
    method: str
    url: str
    ok: bool = Field(description="Reached, a 2xx, and the body did not break the documented schema")
    status: int | None = Field(description="The remote server's HTTP status (none when it was not reached)")
    latency_ms: float
    response_headers: dict[str, str]
    body: str | None = Field(description="At most 4 KiB of the body (text, or base64 when it is not UTF-8)")
    body_encoding: Literal["utf-8", "base64"]
    body_bytes: int
    body_truncated: bool
    schema_matched: bool | None = Field(description="None: no schema is documented for the status answered")
    schema_errors: list[InterfaceSchemaProblem]
    error: str | None
    created_at: str
    created_by: str | None
    expires_at: str | None


class InterfaceTestRunListResponse(ResponseModel):
    items: list[InterfaceTestRunResponse]
    next_cursor: str | None = None
