"""Reads of the identity entities that sign-in, the authorizer and the routes share.

Each function here is one DynamoDB request (BatchGetItem or GetItem), which is
what keeps sign-in at three calls and the authorizer at one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.db.models import AuthzIndex, LoginIdentity, Session, Tenant, TenantCode, User
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


def load(
    scope: Scope,
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    login_email: str | None = None,
    authz: bool = False,
) -> Bundle:
    """The scope's tenant and the asked-for identity items, in one BatchGetItem."""
    wanted: dict[str, tuple[keys.Key, type[TableModel]]] = {}
    if not scope.is_platform:
        wanted["tenant"] = (keys.tenant(scope.tenant_id), Tenant)
    if session_id:
        wanted["session"] = (keys.session(scope, session_id), Session)
    if user_id:
        wanted["user"] = (keys.user(scope, user_id), User)
    if login_email:
        wanted["identity"] = (keys.login(scope, login_email), LoginIdentity)
    if authz:
        wanted["authz"] = (keys.authz(scope), AuthzIndex)
    if not wanted:
        return Bundle()
    found = {(item.pk, item.sk): item for item in TableModel.batch_get([(k.pk, k.sk) for k, _ in wanted.values()])}
    picked: dict[str, TableModel | None] = {}
    for name, (key, model) in wanted.items():
        item = found.get((key.pk, key.sk))
        picked[name] = item if isinstance(item, model) else None
    return Bundle(**picked)  # type: ignore[arg-type]
