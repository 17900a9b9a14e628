"""Who a request is from: an access token verified, its session, tenant and user checked, permissions resolved.

The REST API's authorizer (functions/authorizer) and the WebSocket API's ``$connect`` (functions/realtime) both
call :func:`principal_of`, so a token is accepted or refused in exactly the same way on both: one BatchGetItem
(session, tenant, user and the role index) after the signature and claims are checked.
"""

from __future__ import annotations

from collections.abc import Mapping

from riveredge import apps
from riveredge.auth.principal import Principal
from riveredge.auth.tokens import verify_access_token
from riveredge.authz import effective_permissions, role_index
from riveredge.clock import utcnow
from riveredge.datascope import DataScope
from riveredge.db.identity import Bundle, load
from riveredge.errors import UnauthorizedError
from riveredge.scope import Scope, use_scope


def bearer_token(headers: Mapping[str, str] | None) -> str:
    """The token of an ``Authorization: Bearer`` header, or UnauthorizedError."""
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value:
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    raise UnauthorizedError("a bearer token is required")


def verified(token: str) -> tuple[Principal, Bundle]:
    """The principal an access token stands for, with the identity items read to decide it.

    UnauthorizedError for a token that fails verification, a session that is revoked, expired or another
    user's, an organisation that is not active or a user who is not.
    """
    claims = verify_access_token(token)
    try:
        scope = Scope(str(claims["ten"]))
    except ValueError as error:
        raise UnauthorizedError("token is not valid") from error
    user_id, session_id = str(claims["sub"]), str(claims["sid"])
    with use_scope(scope):
        found = load(scope, session_id=session_id, user_id=user_id, authz=True)
    session, user = found.session, found.user
    if session is None or session.status != "live" or session.user_id != user_id or session.expires_at <= utcnow():
        raise UnauthorizedError("session has ended")
    if not scope.is_platform and (found.tenant is None or found.tenant.status != "active"):
        raise UnauthorizedError("organisation is not active")
    if user is None or user.status != "active":
        raise UnauthorizedError("user is not active")
    roles = role_index(found.authz.roles if found.authz else {})
    role_ids = user.role_ids or set()
    permissions = effective_permissions(roles, role_ids)
    data_scope = DataScope.resolve(
        roles, role_ids, department_id=user.department_id, department_path=user.department_path
    )
    apps_off = apps.off_for(found.tenant.tier, found.tenant.disabled_apps) if found.tenant else frozenset()
    principal = Principal(scope.tenant_id, user_id, session_id, permissions, data_scope, user.department_id, apps_off)
    return principal, found


def principal_of(token: str) -> Principal:
    """The principal an access token stands for, or UnauthorizedError (see :func:`verified`)."""
    return verified(token)[0]
