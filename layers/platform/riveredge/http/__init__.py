"""HTTP: the resolver factory, permission-declaring routers, problem+json."""

from riveredge.http.app import (
    AUTHENTICATED,
    PUBLIC,
    ApiRouter,
    api_function,
    caller,
    create_app,
    created,
    current_principal,
    openapi_spec,
)

__all__ = [
    "AUTHENTICATED",
    "PUBLIC",
    "ApiRouter",
    "api_function",
    "caller",
    "create_app",
    "created",
    "current_principal",
    "openapi_spec",
]
