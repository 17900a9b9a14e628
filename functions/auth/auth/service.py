"""Sign-in rules: credentials, throttling, sessions and token rotation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from riveredge import mail, passwords, realtime
from riveredge.auth import refresh as refresh_tokens
from riveredge.auth.principal import Principal
from riveredge.auth.tokens import issue_access_token
from riveredge.clock import new_id, utcnow
from riveredge.db.identity import Bundle, load, tenant_id_for_code
from riveredge.db.models import Session, Tenant, User
from riveredge.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PasswordExpiredError,
    ThrottledError,
    UnauthorizedError,
)
from riveredge.observability import logger
from riveredge.scope import PLATFORM, Scope, use_scope
from riveredge.settings import get_settings

from auth import repository, throttle

INVALID_CREDENTIALS = "email or password is not correct"
NOT_ACTIVE = "this organisation is not active"
SETTING_UP = "this organisation is still being set up; sign in again in a minute"
EXPIRED = "your password has expired: choose a new one (POST /api/auth/change-expired-password)"


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: where, who, from which client, when, and what the batch read found."""

    scope: Scope
    email: str
    client: Client
    now: datetime
    state: Bundle
    counters: throttle.Counters

    @property
    def ip(self) -> str:
        return self.client.ip or throttle.NO_IP

    @property
    def account_id(self) -> str | None:
        """The user id of the address's active account (None: no such account, or not active)."""
        identity = self.state.identity
        return identity.user_id if identity is not None and identity.status == "active" else None

    def refuse(self, reason: str, user_id: str | None = None) -> None:
        repository.record_refusal(
            self.scope,
            email=self.email,
            user_id=user_id,
            reason=reason,
            ip=self.client.ip,
            user_agent=self.client.user_agent,
        )


def _scope_for(tenant_code: str) -> Scope | None:
    tenant_id = tenant_id_for_code(tenant_code)
    return Scope(tenant_id) if tenant_id else None


def session_seconds(tenant: Tenant | None) -> int:
    """How long a session lasts: the tenant's session length (its site settings', copied onto the tenant item
    that sign-in reads anyway), else the deployment's default (always for the platform)."""
    configured = int(tenant.session_seconds or 0) if tenant is not None else 0
    return configured or get_settings().refresh_token_ttl_seconds


def _policy(attempt: Attempt) -> dict[str, object] | None:
    """The tenant's password policy, from the tenant item the attempt's batch read (the platform: defaults)."""
    tenant = attempt.state.tenant
    return dict(tenant.password_policy or {}) if tenant is not None and not attempt.scope.is_platform else None


@contextmanager
def _signing_in(tenant_code: str, email: str, password: str, client: Client) -> Iterator[tuple[Attempt, str]]:
    """Within the block: the attempt of `email` whose throttle, password and organisation checks passed, and
    its account's id. Throttled attempts are refused before any password is checked, alike for known and
    unknown addresses."""
    scope = _scope_for(tenant_code)
    if scope is None:
        passwords.verify_password(None, password)  # same time as a real check
        raise UnauthorizedError(INVALID_CREDENTIALS)
    email = email.lower()
    now = utcnow()
    with use_scope(scope):
        state = load(scope, login_email=email, login_ip=client.ip or throttle.NO_IP)
        attempt = Attempt(scope, email, client, now, state, throttle.Counters.of(state, now))
        _check_throttle(attempt)
        user_id = _check_password(attempt, password)
        _check_tenant(attempt, user_id)
        assert user_id is not None  # _check_tenant refuses the first admin until onboarding creates the account
        yield attempt, user_id


def login(tenant_code: str, email: str, password: str, client: Client) -> Tokens:
    """Check the credentials of `email` in the tenant `tenant_code` and open a session.

    A right password older than the tenant's policy allows is refused (403 password-expired) and opens no
    session; only then, so the refusal tells nothing to whoever does not know the password.
    """
    with _signing_in(tenant_code, email, password, client) as (attempt, user_id):
        if _password_expired(attempt):
            attempt.refuse("password_expired", user_id)
            raise PasswordExpiredError(EXPIRED)
        return _open_session(attempt, user_id)


def change_expired_password(
    tenant_code: str, email: str, current_password: str, new_password: str, client: Client
) -> Tokens:
    """Replace an expired password and open a session: the same throttle and checks as :func:`login` first.

    The new password meets the tenant's current policy and history (riveredge.passwords.set_password); every
    other session of the account ends. A password that has not expired is refused (409): that change belongs
    to the signed-in caller's own route.
    """
    with _signing_in(tenant_code, email, current_password, client) as (attempt, user_id):
        identity = attempt.state.identity
        assert identity is not None  # _check_password saw to it
        if not _password_expired(attempt):
            raise ConflictError("the password has not expired: sign in and change it with POST /api/me/password")
        verified = identity.password_hash
        passwords.set_password(identity, new_password, field="new_password", policy=_policy(attempt), now=attempt.now)
        repository.store_password(attempt.scope, identity, verified_hash=verified, user_id=user_id)
        return _open_session(attempt, user_id)


def _password_expired(attempt: Attempt) -> bool:
    identity = attempt.state.identity
    if identity is None:
        return False
    return passwords.expired(identity.password_changed_at, identity.created_at, _policy(attempt), attempt.now)


def _check_throttle(attempt: Attempt) -> None:
    """Refuse (429) an attempt that the counters do not allow, before any password is checked."""
    counters, now = attempt.counters, attempt.now
    until = counters.blocked_until()
    if until is None:
        delay = counters.delay()
        if delay is None or repository.claim_check(attempt.scope, attempt.email, now=now, delay=delay):
            return
        until = counters.next_check(delay, now)
    attempt.refuse("throttled", attempt.account_id)
    raise ThrottledError(throttle.THROTTLED, retry_after=throttle.retry_after(until, now))


def _check_password(attempt: Attempt, password: str) -> str | None:
    """The account's user id once `password` is right (None: the organisation's first admin, not created yet).

    A wrong password or an unknown address is counted and answers 401, the same for both.
    """
    identity, tenant, user_id = attempt.state.identity, attempt.state.tenant, attempt.account_id
    password_hash = identity.password_hash if identity is not None and user_id is not None else None
    pending = None
    if user_id is None and tenant is not None and tenant.status != "active" and tenant.admin_email == attempt.email:
        pending = repository.pending_admin(attempt.scope)  # onboarding has not created the account yet
        password_hash = pending.password_hash if pending is not None else None
    if passwords.verify_password(password_hash, password):
        return user_id
    _count_failure(attempt, user_id, "bad_credentials" if user_id or pending else "unknown_user")
    raise UnauthorizedError(INVALID_CREDENTIALS)


def _count_failure(attempt: Attempt, user_id: str | None, reason: str) -> None:
    counters = attempt.counters
    failures = repository.record_failure(
        attempt.scope,
        email=attempt.email,
        ip=attempt.ip,
        user_id=user_id,
        reason=reason,
        reopen=(counters.account.closed, counters.account_ip.closed, counters.ip.closed),
        now=attempt.now,
        window=throttle.WINDOW,
        client_ip=attempt.client.ip,
        user_agent=attempt.client.user_agent,
    )
    # ADD answers each failure its own count, so exactly one request of the window sees the threshold.
    if failures == throttle.SLOWDOWN_AFTER and user_id is not None:
        _alert_owner(attempt, failures)


def _alert_owner(attempt: Attempt, failures: int) -> None:
    """Tell the owner that sign-ins to their account are being slowed down (best effort: the answer stays 401)."""
    tenant = attempt.state.tenant
    organisation, code = (tenant.name, tenant.code) if tenant is not None else ("RiverEdge platform", PLATFORM)
    minutes = int(throttle.WINDOW.total_seconds() // 60)
    try:
        context = {
            "user_email": attempt.email,
            "organisation_name": organisation,
            "organisation_code": code,
            "failures": failures,
            "window_minutes": minutes,
        }
        mail.send_by_template(attempt.scope, mail.LOGIN_FAILURES, [attempt.email], context)
    except Exception:
        logger.exception("the sign-in alert could not be queued", extra={"email": attempt.email})


def _check_tenant(attempt: Attempt, user_id: str | None) -> None:
    """Refuse (403) the right credentials of an organisation that is not open for sign-in."""
    tenant = attempt.state.tenant
    if attempt.scope.is_platform or (tenant is not None and tenant.status == "active" and user_id is not None):
        return
    attempt.refuse("tenant_inactive", user_id)
    raise ForbiddenError(SETTING_UP if tenant is not None and tenant.status == "provisioning" else NOT_ACTIVE)


def _open_session(attempt: Attempt, user_id: str | None) -> Tokens:
    assert user_id is not None  # _check_tenant refuses the first admin until onboarding creates the account
    scope, now, client = attempt.scope, attempt.now, attempt.client
    session_id = new_id()
    refresh = refresh_tokens.new_refresh_token(scope.tenant_id, session_id)
    session = Session.new(
        scope,
        session_id,
        user_id,
        refresh_digest=refresh.digest,
        status="live",
        expires_at=now + timedelta(seconds=session_seconds(attempt.state.tenant)),
        ip=client.ip,
        user_agent=(client.user_agent or "")[:512] or None,
    )
    session.ttl = session.expires_at + timedelta(days=1)
    known = attempt.state.known_address
    renew = known is None or known.ttl is None or known.ttl < now + throttle.KNOWN_ADDRESS_FOR - timedelta(days=1)
    repository.open_session(
        scope,
        session,
        email=attempt.email,
        ip=attempt.ip,
        user_id=user_id,
        clear=attempt.state.throttle_account_ip is not None,
        known_until=now + throttle.KNOWN_ADDRESS_FOR if renew else None,  # renewed at most once a day
        client_ip=client.ip,
        user_agent=client.user_agent,
    )
    access, expires_in = issue_access_token(tenant_id=scope.tenant_id, user_id=user_id, session_id=session_id)
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
            realtime.close_session(scope, session.session_id)
            raise UnauthorizedError("refresh token was already used; the session is revoked")
        if not refresh_tokens.matches(session.refresh_digest, presented):
            raise UnauthorizedError("refresh token is not valid")
        if not scope.is_platform and (tenant is None or tenant.status != "active"):
            raise UnauthorizedError("this organisation is not active")
        started = session.created_at or now
        if started + timedelta(seconds=session_seconds(tenant)) <= now:  # the session length was shortened since
            raise UnauthorizedError("the session has ended; sign in again")
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
        realtime.close_session(principal.scope, session.session_id)


def me(principal: Principal) -> tuple[User, Tenant | None]:
    """The caller's user and tenant (one BatchGetItem)."""
    state = load(principal.scope, user_id=principal.user_id)
    if state.user is None:
        raise NotFoundError("no such user")
    if principal.tenant_id != PLATFORM and state.tenant is None:
        raise NotFoundError("no such tenant")
    return state.user, state.tenant
