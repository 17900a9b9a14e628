"""Who may open a WebSocket connection, and what it says: the same verification as the REST API's authorizer.

A browser cannot set an ``Authorization`` header on a WebSocket, so the access token comes either in the query
string (``?token=<access token>``) or as a subprotocol: ``Sec-WebSocket-Protocol: riveredge, bearer.<access
token>``, answered with ``riveredge`` (a client that offers subprotocols must be answered one of them). The
token is verified by :func:`riveredge.auth.verify.verified`, as the authorizer does, session revocation and
expiry included; the connection is stored under the user until its session or two hours end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from riveredge import realtime
from riveredge.auth.principal import Principal
from riveredge.auth.verify import verified
from riveredge.errors import BadRequestError, UnauthorizedError

SUBPROTOCOL = "riveredge"
TOKEN_PROTOCOL_PREFIX = "bearer."
_CONNECTION_ID = re.compile(r"^[A-Za-z0-9+/=_-]{1,128}$")
MAX_FRAME = 1024  # what a client may send: a ping


@dataclass(frozen=True)
class Accepted:
    connection_id: str
    principal: Principal
    subprotocol: str | None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def token_of(headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[str, str | None]:
    """The access token of a connection request and the subprotocol to answer (None: none was offered)."""
    offered = [p.strip() for p in (_header(headers, "sec-websocket-protocol") or "").split(",") if p.strip()]
    from_protocol = [p.removeprefix(TOKEN_PROTOCOL_PREFIX) for p in offered if p.startswith(TOKEN_PROTOCOL_PREFIX)]
    subprotocol = SUBPROTOCOL if SUBPROTOCOL in offered else None
    if offered and subprotocol is None:
        raise BadRequestError(f"offer the {SUBPROTOCOL!r} subprotocol (beside the token, if it is sent as one)")
    token = (query.get("token") or "").strip() or (from_protocol[0] if from_protocol else "")
    if not token:
        raise UnauthorizedError("an access token is required (?token= or the bearer.<token> subprotocol)")
    return token, subprotocol


def connect(connection_id: str, *, headers: Mapping[str, str], query: Mapping[str, str]) -> Accepted:
    """Verify the request's token and store the connection under its user."""
    if not _CONNECTION_ID.match(connection_id):
        raise BadRequestError("no connection id")
    token, subprotocol = token_of(headers, query)
    principal, found = verified(token)
    if found.session is None:  # verified() refuses a missing session already; this says so to the type checker
        raise UnauthorizedError("session has ended")
    realtime.register(principal, connection_id, session_expires_at=found.session.expires_at)
    return Accepted(connection_id, principal, subprotocol)


def disconnect(connection_id: str) -> None:
    if _CONNECTION_ID.match(connection_id):
        realtime.forget(connection_id)


def reply(body: str | None) -> dict[str, Any]:
    """What a client's frame is answered with."""
    if body is None or len(body) > MAX_FRAME:
        return {"type": "error", "message": f"send a JSON frame of at most {MAX_FRAME} characters"}
    try:
        frame = json.loads(body)
    except ValueError:
        return {"type": "error", "message": "send a JSON frame"}
    if isinstance(frame, dict) and frame.get("type") == "ping":
        return {"type": "pong"}
    return {"type": "error", "message": 'the server only answers {"type": "ping"}; messages come to you'}
