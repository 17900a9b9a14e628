"""Reads of the identity entities that sign-in, the authorizer and the routes share.

Each function here is one DynamoDB request (BatchGetItem or GetItem), which is
what keeps sign-in at three calls and the authorizer at one: sign-in reads its
throttle counters in the same BatchGetItem as the credential.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.db.models import (
    AuthzIndex,
    KnownLoginAddress,
    LoginIdentity,
    LoginThrottle,
    Session,
    Tenant,
    TenantCode,
    User,
)
from riveredge.scope import PLATFORM, Scope, platform_scope, use_scope

_CODE_CACHE_SECONDS = 300
_code_cache: dict[str, tuple[float, str | None]] = {}


def tenant_id_for_code(code: str) -> str | None:
    """The tenant id of a tenant code (immutable once created; cached for five minutes)."""
    if code == PLATFORM:
        return PLATFORM
    cached = _code_cache.get(code)
    if cached and cached[1] is not None and cached[0] > time.monotonic():
        return cached[1]
    key = keys.tenant_code(code)
    with use_scope(platform_scope()):
        try:
            tenant_id: str | None = TenantCode.get(key.pk, key.sk, attributes_to_get=["tenant_id"]).tenant_id
        except TenantCode.DoesNotExist:
            tenant_id = None
    _code_cache[code] = (time.monotonic() + _CODE_CACHE_SECONDS, tenant_id)
    return tenant_id


@dataclass(frozen=True)
class Bundle:
    """What one BatchGetItem found of a caller's identity entities (None where absent or not asked)."""

    tenant: Tenant | None = None
    session: Session | None = None
    user: User | None = None
    identity: LoginIdentity | None = None
    authz: AuthzIndex | None = None
    throttle_account: LoginThrottle | None = None  # failed sign-ins of the address, from anywhere
    throttle_account_ip: LoginThrottle | None = None  # ... of the address from the client's IP
    throttle_ip: LoginThrottle | None = None  # ... from the client's IP, whichever the address
    known_address: KnownLoginAddress | None = None  # the address signed in from the client's IP lately


def load(
    scope: Scope,
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    login_email: str | None = None,
    login_ip: str | None = None,
    authz: bool = False,
) -> Bundle:
    """The scope's tenant and the asked-for identity items, in one BatchGetItem.

    With `login_email` and `login_ip`, the sign-in throttle items of that address and client IP too, read
    consistently (a counter read a moment late lets more guesses through).
    """
    wanted: dict[str, tuple[keys.Key, type[TableModel]]] = {}
    if not scope.is_platform:
        wanted["tenant"] = (keys.tenant(scope.tenant_id), Tenant)
    if session_id:
        wanted["session"] = (keys.session(scope, session_id), Session)
    if user_id:
        wanted["user"] = (keys.user(scope, user_id), User)
    if login_email:
        wanted["identity"] = (keys.login(scope, login_email), LoginIdentity)
    if login_email and login_ip:
        wanted["throttle_account"] = (keys.login_throttle_account(scope, login_email), LoginThrottle)
        wanted["throttle_account_ip"] = (keys.login_throttle_account_ip(scope, login_email, login_ip), LoginThrottle)
        wanted["throttle_ip"] = (keys.login_throttle_ip(scope, login_ip), LoginThrottle)
        wanted["known_address"] = (keys.known_login_address(scope, login_email, login_ip), KnownLoginAddress)
    if authz:
        wanted["authz"] = (keys.authz(scope), AuthzIndex)
    if not wanted:
        return Bundle()
    batch = TableModel.batch_get([(k.pk, k.sk) for k, _ in wanted.values()], consistent_read=True if login_ip else None)
    found = {(item.pk, item.sk): item for item in batch}
    picked: dict[str, TableModel | None] = {}
    for name, (key, model) in wanted.items():
        item = found.get((key.pk, key.sk))
        picked[name] = item if isinstance(item, model) else None
    return Bundle(**picked)  # type: ignore[arg-type]


def password_policy(scope: Scope) -> dict[str, object] | None:
    """The password policy a new password of `scope` must meet: the tenant item's copy of its site settings'
    policy (one GetItem), None (the defaults) for the platform, which has no tenant."""
    if scope.is_platform:
        return None
    tenant = Tenant.find(keys.tenant(scope.tenant_id))
    return dict(tenant.password_policy or {}) if tenant is not None else None
