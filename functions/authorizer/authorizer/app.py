"""Verify the bearer token, check the session and the tenant, resolve permissions and the apps that are off.

One BatchGetItem per request (session, tenant, user and the role index). The
policy allows the whole stage, so API Gateway may cache the result for the
configured TTL; with a TTL of 0 (the default) a logout, a force-logout or a
suspension is refused on the very next request.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from riveredge import apps
from riveredge.auth.principal import Principal
from riveredge.auth.tokens import verify_access_token
from riveredge.authz import effective_permissions, role_index
from riveredge.clock import utcnow
from riveredge.datascope import DataScope
from riveredge.db.identity import load
from riveredge.errors import UnauthorizedError
from riveredge.observability import logger
from riveredge.scope import Scope, use_scope

UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway turns into a 401


def bearer_token(headers: dict[str, str] | None) -> str:
    for name, value in (headers or {}).items():
        if name.lower() == "authorization" and value:
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    raise UnauthorizedError("a bearer token is required")


def authorize(headers: dict[str, str] | None) -> Principal:
    """The principal of a request, or UnauthorizedError."""
    claims = verify_access_token(bearer_token(headers))
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
    return Principal(scope.tenant_id, user_id, session_id, permissions, data_scope, user.department_id, apps_off)


def _policy(principal_id: str, effect: str, method_arn: str, context: dict[str, str] | None = None) -> dict[str, Any]:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> the whole stage,
    # so that a cached answer fits every route
    arn_parts = method_arn.split("/")
    resource = "/".join(arn_parts[:2]) + "/*" if len(arn_parts) >= 2 else method_arn
    policy: dict[str, Any] = {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        policy["context"] = context
    return policy


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        principal = authorize(event.get("headers"))
    except UnauthorizedError as error:
        logger.info("request refused", extra={"reason": error.detail})
        raise Exception(UNAUTHORIZED) from error
    logger.append_keys(tenant_id=principal.tenant_id, user_id=principal.user_id)
    return _policy(principal.user_id, "Allow", str(event.get("methodArn", "")), principal.to_context())
