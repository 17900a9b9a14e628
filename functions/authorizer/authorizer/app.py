"""Verify the bearer token, check the session and the tenant, resolve permissions and the apps that are off.

One BatchGetItem per request (session, tenant, user and the role index). The
policy allows the whole stage, so API Gateway may cache the result for the
configured TTL; with a TTL of 0 (the default) a logout, a force-logout or a
suspension is refused on the very next request.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from riveredge.auth.principal import Principal
from riveredge.auth.verify import bearer_token, principal_of
from riveredge.errors import UnauthorizedError
from riveredge.observability import logger

UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway turns into a 401


def authorize(headers: dict[str, str] | None) -> Principal:
    """The principal of a request, or UnauthorizedError (riveredge.auth.verify, shared with the WebSocket API)."""
    return principal_of(bearer_token(headers))


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
