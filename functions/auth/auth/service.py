"""Sign-in rules: credentials, throttling, sessions and token rotation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from riveredge import passwords
from riveredge.auth import refresh as refresh_tokens
from riveredge.auth.principal import Principal
from riveredge.auth.tokens import issue_access_token
from riveredge.clock import new_id, utcnow
from riveredge.db.identity import load, tenant_id_for_code
from riveredge.db.models import LoginIdentity, Session, Tenant, User
from riveredge.errors import ForbiddenError, NotFoundError, ThrottledError, UnauthorizedError
from riveredge.scope import PLATFORM, Scope, use_scope
from riveredge.settings import get_settings

from auth import repository

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
INVALID_CREDENTIALS = "email or password is not correct"


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def _scope_for(tenant_code: str) -> Scope | None:
    tenant_id = tenant_id_for_code(tenant_code)
    return Scope(tenant_id) if tenant_id else None


def _raise_failure(scope: Scope, identity: LoginIdentity | None, email: str, reason: str, client: Client) -> None:
    now = utcnow()
    identity = identity or LoginIdentity.new(scope, email)
    window_open = identity.window_started and now - identity.window_started < FAILURE_WINDOW
    identity.failed_count = (identity.failed_count or 0) + 1 if window_open else 1
    if not window_open:
        identity.window_started = now
    if identity.failed_count >= MAX_FAILURES:
        identity.locked_until = now + LOCKOUT
    repository.record_failure(scope, identity, email=email, reason=reason, ip=client.ip, user_agent=client.user_agent)
    raise UnauthorizedError(INVALID_CREDENTIALS)


def login(tenant_code: str, email: str, password: str, client: Client) -> Tokens:
    """Check the credentials of `email` in the tenant `tenant_code` and open a session."""
    scope = _scope_for(tenant_code)
    if scope is None:
        passwords.verify_password(None, password)  # same time as a real check
        raise UnauthorizedError(INVALID_CREDENTIALS)
    email = email.lower()
    with use_scope(scope):
        state = load(scope, login_email=email)
        identity = state.identity
        now = utcnow()
        if identity and identity.locked_until and identity.locked_until > now:
            repository.record_refusal(
                scope,
                email=email,
                user_id=identity.user_id,
                reason="locked",
                ip=client.ip,
                user_agent=client.user_agent,
            )
            retry_after = int((identity.locked_until - now).total_seconds()) + 1
            raise ThrottledError("too many failed sign-ins; try again later", retry_after=retry_after)
        known = identity is not None and identity.user_id is not None and identity.status == "active"
        if not passwords.verify_password(identity.password_hash if identity and known else None, password):
            _raise_failure(scope, identity, email, "bad_credentials" if known else "unknown_user", client)
        assert identity is not None and identity.user_id is not None
        if not scope.is_platform and (state.tenant is None or state.tenant.status != "active"):
            repository.record_refusal(
                scope,
                email=email,
                user_id=identity.user_id,
                reason="tenant_inactive",
                ip=client.ip,
                user_agent=client.user_agent,
            )
            raise ForbiddenError("this organisation is not active")
        session_id = new_id()
        refresh = refresh_tokens.new_refresh_token(scope.tenant_id, session_id)
        session = Session.new(
            scope,
            session_id,
            identity.user_id,
            refresh_digest=refresh.digest,
            status="live",
            expires_at=now + timedelta(seconds=get_settings().refresh_token_ttl_seconds),
            ip=client.ip,
            user_agent=(client.user_agent or "")[:512] or None,
        )
        session.ttl = session.expires_at + timedelta(days=1)
        repository.open_session(scope, session, identity, email=email, ip=client.ip, user_agent=client.user_agent)
        access, expires_in = issue_access_token(
            tenant_id=scope.tenant_id, user_id=identity.user_id, session_id=session_id
        )
        return Tokens(access, str(refresh), expires_in)


def refresh(token: str) -> Tokens:
    """Rotate a refresh token. Presenting a superseded one revokes the whole session."""
    presented = refresh_tokens.parse(token)
    scope = Scope(presented.tenant_id)
    with use_scope(scope):
        state = load(scope, session_id=presented.session_id)
        session, tenant = state.session, state.tenant
        now = utcnow()
        if session is None or session.status != "live" or session.expires_at <= now:
            raise UnauthorizedError("refresh token is not valid")
        if refresh_tokens.matches(session.previous_refresh_digest, presented):
            repository.revoke(session, "refresh_token_reused", at=now)
            raise UnauthorizedError("refresh token was already used; the session is revoked")
        if not refresh_tokens.matches(session.refresh_digest, presented):
            raise UnauthorizedError("refresh token is not valid")
        if not scope.is_platform and (tenant is None or tenant.status != "active"):
            raise UnauthorizedError("this organisation is not active")
        rotated = refresh_tokens.new_refresh_token(scope.tenant_id, session.session_id)
        repository.rotate(session, old_digest=presented.digest, new_digest=rotated.digest)
        access, expires_in = issue_access_token(
            tenant_id=scope.tenant_id, user_id=session.user_id, session_id=session.session_id
        )
        return Tokens(access, str(rotated), expires_in)


def logout(principal: Principal) -> None:
    session = repository.find_session(principal.scope, principal.session_id)
    if session is not None:
        repository.revoke(session, "logout", at=utcnow())


def me(principal: Principal) -> tuple[User, Tenant | None]:
    """The caller's user and tenant (one BatchGetItem)."""
    state = load(principal.scope, user_id=principal.user_id)
    if state.user is None:
        raise NotFoundError("no such user")
    if principal.tenant_id != PLATFORM and state.tenant is None:
        raise NotFoundError("no such tenant")
    return state.user, state.tenant
