"""Lambda entry point of the WebSocket API ($connect, $disconnect, $default)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from riveredge.errors import BadRequestError, UnauthorizedError
from riveredge.observability import logger

from realtime import service


def _answer(status: int, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body or {}, separators=(",", ":")),
    }


def connect(event: dict[str, Any]) -> dict[str, Any]:
    """Accept the connection for the token's user (storing it), or refuse it with 400 / 401."""
    context = event.get("requestContext") or {}
    try:
        accepted = service.connect(
            str(context.get("connectionId") or ""),
            headers=event.get("headers") or {},
            query=event.get("queryStringParameters") or {},
        )
    except UnauthorizedError as error:
        logger.info("connection refused", extra={"reason": error.detail})
        return _answer(401, {"message": "Unauthorized"})
    except BadRequestError as error:
        logger.info("connection refused", extra={"reason": error.detail})
        return _answer(400, {"message": error.detail})
    logger.append_keys(tenant_id=accepted.principal.tenant_id, user_id=accepted.principal.user_id)
    logger.info("connected", extra={"connection_id": accepted.connection_id})
    headers = {"Sec-WebSocket-Protocol": accepted.subprotocol} if accepted.subprotocol else None
    return _answer(200, headers=headers)


def disconnect(event: dict[str, Any]) -> dict[str, Any]:
    connection_id = str((event.get("requestContext") or {}).get("connectionId") or "")
    service.disconnect(connection_id)
    return _answer(200)


def default(event: dict[str, Any]) -> dict[str, Any]:
    """A frame the client sent: {"type": "ping"} answers {"type": "pong"}; the route's response goes back to
    the client (RouteResponseSelectionExpression $default)."""
    return _answer(200, service.reply(event.get("body")))


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    route = str((event.get("requestContext") or {}).get("routeKey") or "")
    if route == "$connect":
        return connect(event)
    if route == "$disconnect":
        return disconnect(event)
    return default(event)
