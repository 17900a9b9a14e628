"""Routes of sign-in (thin: parse, call the service, answer)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from riveredge.auth.tokens import jwks
from riveredge.http import AUTHENTICATED, PUBLIC, ApiRouter, caller, current_principal, no_content
from riveredge.schemas import TenantResponse, UserResponse

from auth import service
from auth.models import (
    ChangeExpiredPasswordRequest,
    JwksResponse,
    LoginRequest,
    MeResponse,
    PlatformScopeResponse,
    RefreshRequest,
    TokenResponse,
)

router = ApiRouter("auth")


def _client() -> service.Client:
    who = caller(router)
    return service.Client(ip=who.ip, user_agent=who.user_agent)


def _tokens(tokens: service.Tokens) -> TokenResponse:
    return TokenResponse(
        access_token=tokens.access_token, refresh_token=tokens.refresh_token, expires_in=tokens.expires_in
    )


@router.post("/api/auth/login", permission=PUBLIC, summary="Sign in with tenant code, email and password")
def login(body: LoginRequest) -> TokenResponse:
    return _tokens(service.login(body.tenant, str(body.email), body.password, _client()))


@router.post(
    "/api/auth/change-expired-password",
    permission=PUBLIC,
    summary="Replace an expired password (sign-in answered 403 password-expired) and sign in: the same checks "
    "and throttling as sign-in, then the organisation's password policy and history",
)
def change_expired_password(body: ChangeExpiredPasswordRequest) -> TokenResponse:
    tokens = service.change_expired_password(
        body.tenant, body.email, body.current_password, body.new_password, _client()
    )
    return _tokens(tokens)


@router.post("/api/auth/refresh", permission=PUBLIC, summary="Rotate a refresh token for new tokens")
def refresh(body: RefreshRequest) -> TokenResponse:
    return _tokens(service.refresh(body.refresh_token))


@router.post(
    "/api/auth/logout",
    permission=AUTHENTICATED,
    summary="End the caller's session",
    status_code=204,
    responses={204: {"description": "Signed out"}},
)
def logout() -> Response[str]:
    service.logout(current_principal(router))
    return no_content()


@router.get("/api/auth/me", permission=AUTHENTICATED, summary="The caller and their organisation")
def me() -> MeResponse:
    user, tenant = service.me(current_principal(router))
    return MeResponse(
        user=UserResponse.of(user),
        tenant=TenantResponse.of(tenant) if tenant else PlatformScopeResponse(),
    )


@router.get("/.well-known/jwks.json", permission=PUBLIC, summary="Public keys that verify access tokens")
def get_jwks() -> JwksResponse:
    return JwksResponse.model_validate(jwks())
