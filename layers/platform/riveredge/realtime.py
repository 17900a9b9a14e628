"""Real-time push over the WebSocket API: the connections of each user, and what reaches them.

A connection is stored at ``$connect`` (functions/realtime) as three items written in one transaction:

- ``Connection`` under its user (``keys.connections``): what :func:`push` Queries;
- ``SessionConnection`` under the session that opened it (``keys.session_connections``): what
  :func:`close_session` Queries when the session is revoked;
- ``ConnectionLookup`` by connection id, in the platform scope: a ``$disconnect`` names only the connection.

Each expires (TTL) when API Gateway would close the connection anyway (two hours) or when its session ends,
whichever is first. Pushing re-checks each connection's session (one BatchGetItem, only for a user who has
connections), so a connection whose session was revoked or has expired is closed rather than served even if
the close at revocation was missed. The management endpoint is the stage's (``WEBSOCKET_ENDPOINT``); the local
stack serves a compatible one.

These writes cross the tenant's keys and the platform's (the lookup item), so they run in a platform scope
widened to that one tenant, never to any other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from riveredge import aws, keys
from riveredge.auth.principal import Principal
from riveredge.clock import utcnow
from riveredge.db.base import TableModel
from riveredge.db.changes import System, change
from riveredge.db.models import Connection, ConnectionLookup, Session, SessionConnection
from riveredge.errors import DomainError
from riveredge.observability import logger
from riveredge.scope import Scope, platform_scope, use_scope
from riveredge.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

CONNECTION_LIFETIME = timedelta(hours=2)  # API Gateway closes every WebSocket connection after two hours
SESSIONS_PER_BATCH = 100  # BatchGetItem's limit


def _wide(scope: Scope) -> Scope:
    """The scope that may write `scope`'s connection items and their platform lookup items (nothing else)."""
    return platform_scope() if scope.is_platform else platform_scope().with_tenant(scope.tenant_id)


@contextmanager
def _connection_scope(scope: Scope) -> Iterator[None]:
    with use_scope(_wide(scope)):
        yield


def _management() -> ApiGatewayManagementApiClient | None:
    endpoint = get_settings().websocket_endpoint
    return aws.apigateway_management(endpoint) if endpoint else None


def register(principal: Principal, connection_id: str, *, session_expires_at: datetime) -> Connection:
    """Store a connection that ``$connect`` accepted for `principal` (three items, one transaction)."""
    scope = principal.scope
    expires = min(utcnow() + CONNECTION_LIFETIME, session_expires_at)
    connection = Connection.new(
        scope,
        principal.user_id,
        connection_id,
        session_id=principal.session_id,
        expires_at=expires,
        ttl=expires,
    )
    by_session = SessionConnection.new(
        scope, principal.session_id, connection_id, user_id=principal.user_id, ttl=expires
    )
    lookup = ConnectionLookup.new(
        connection_id,
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        session_id=principal.session_id,
        ttl=expires,
    )
    with _connection_scope(scope), change(System(scope, principal.user_id), "realtime.connect") as c:
        for item in (connection, by_session, lookup):
            c.create(item, conflict="the connection is registered already")
    return connection


def forget(connection_id: str) -> bool:
    """Remove what ``$connect`` stored for a connection that ended (``$disconnect``); False if nothing was."""
    with use_scope(platform_scope()):
        lookup = ConnectionLookup.find(keys.connection_lookup(connection_id))
    if lookup is None:
        return False  # closed by us (revocation, gone), which removed it first
    scope = Scope(lookup.tenant_id)
    _remove(scope, lookup.user_id, lookup.session_id, connection_id)
    return True


def push(scope: Scope, user_id: str, payload: dict[str, Any]) -> int:
    """Send `payload` (a JSON frame) to every open connection of `user_id`; answers how many it reached.

    A gone connection is removed, one whose session has ended is closed and removed; nothing raises (a fault is
    logged and that connection counts as not reached), so a caller can push after its commit without a
    try/except.
    """
    client = _management()
    if client is None:
        return 0
    try:
        with _connection_scope(scope):
            found = [
                c
                for c in Connection.query(keys.connections(scope, user_id), consistent_read=True)
                if isinstance(c, Connection)
            ]
            live = _live_sessions(scope, {c.session_id for c in found}) if found else set()
    except (BotoCoreError, ClientError, ValueError):
        logger.exception("connections could not be read", extra={"user_id": user_id})
        return 0
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    now, reached = utcnow(), 0
    for connection in found:
        if connection.session_id not in live or connection.expires_at <= now:
            _close(client, scope, connection.user_id, connection.session_id, connection.connection_id)
            continue
        try:
            client.post_to_connection(ConnectionId=connection.connection_id, Data=data)
        except client.exceptions.GoneException:
            _remove(scope, connection.user_id, connection.session_id, connection.connection_id)
            continue
        except (BotoCoreError, ClientError):
            logger.exception("a push did not reach a connection", extra={"connection_id": connection.connection_id})
            continue
        reached += 1
    return reached


def close_session(scope: Scope, session_id: str) -> int:
    """Close every connection `session_id` opened (it was revoked); answers how many there were.

    Never raises: the session's revocation has committed already, and a connection left open is closed by
    the next push to its user (which re-checks the session) or by its TTL.
    """
    try:
        with _connection_scope(scope):
            entries = [
                e
                for e in SessionConnection.query(keys.session_connections(scope, session_id), consistent_read=True)
                if isinstance(e, SessionConnection)
            ]
    except (BotoCoreError, ClientError, ValueError):
        logger.exception("the session's connections could not be read", extra={"session_id": session_id})
        return 0
    client = _management()
    for entry in entries:
        _close(client, scope, entry.user_id, session_id, entry.connection_id)
    return len(entries)


def close_sessions(scope: Scope, session_ids: Iterable[str]) -> int:
    """:func:`close_session` for each of `session_ids` (sessions that one change revoked)."""
    return sum(close_session(scope, session_id) for session_id in session_ids)


def _live_sessions(scope: Scope, session_ids: set[str]) -> set[str]:
    """Those of `session_ids` still live and unexpired (BatchGetItem)."""
    now, live = utcnow(), set()
    wanted = sorted(session_ids)
    for start in range(0, len(wanted), SESSIONS_PER_BATCH):
        chunk = [keys.session(scope, s) for s in wanted[start : start + SESSIONS_PER_BATCH]]
        for item in TableModel.batch_get([(k.pk, k.sk) for k in chunk]):
            if isinstance(item, Session) and item.status == "live" and item.expires_at > now:
                live.add(item.session_id)
    return live


def _close(
    client: ApiGatewayManagementApiClient | None, scope: Scope, user_id: str, session_id: str, connection_id: str
) -> None:
    """Close a connection (one already gone is fine) and remove its items."""
    if client is not None:
        try:
            client.delete_connection(ConnectionId=connection_id)
        except client.exceptions.GoneException:
            pass
        except (BotoCoreError, ClientError):
            logger.exception("a connection could not be closed", extra={"connection_id": connection_id})
            return  # keep its items: the next push or close tries again
    _remove(scope, user_id, session_id, connection_id)


def _remove(scope: Scope, user_id: str, session_id: str, connection_id: str) -> None:
    """Delete a connection's three items (unconditionally: any of them may be gone already)."""
    items: list[TableModel] = [
        Connection.new(scope, user_id, connection_id),
        SessionConnection.new(scope, session_id, connection_id),
        ConnectionLookup.new(connection_id),
    ]
    try:
        with _connection_scope(scope), change(System(scope, user_id), "realtime.disconnect") as c:
            for item in items:
                c.delete(item, versioned=False)
    except (BotoCoreError, ClientError, ValueError, DomainError):
        logger.exception("a connection's items could not be removed", extra={"connection_id": connection_id})
