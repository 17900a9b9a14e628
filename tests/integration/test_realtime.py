"""Real-time push: the WebSocket API of the local stack ($connect authenticated as the REST API is), push to a
user's connections, and revoked sessions' connections closed."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from riveredge import keys, realtime
from riveredge.auth.principal import Principal
from riveredge.auth.tokens import issue_access_token
from riveredge.clock import new_id, utcnow
from riveredge.db.models import Connection, ConnectionLookup, Session, SessionConnection
from riveredge.scope import Scope, platform_scope, use_scope
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from local_stack.stack import LocalStack
from local_stack.template import ROOT
from tests.integration.accounts import make_user
from tests.integration.conftest import TenantFixture
from tests.support import PASSWORD, claims_of

RECEIVE_TIMEOUT = 10.0  # generous: the first $connect starts the realtime function's environment


# -- helpers --------------------------------------------------------------------------------
def _person(stack: LocalStack, tenant: TenantFixture) -> dict[str, Any]:
    """A fresh account of `tenant` with no role, signed in."""
    return {**make_user(stack, tenant.id, tenant.code, [], name="Wes Socket"), "tenant": tenant}


@pytest.fixture
def person(stack: LocalStack, acme: TenantFixture) -> dict[str, Any]:
    return _person(stack, acme)


def _url(stack: LocalStack, token: str | None = None) -> str:
    assert stack.websocket is not None
    return f"{stack.websocket.url}/" + (f"?token={token}" if token else "")


@pytest.fixture
def opened(stack: LocalStack) -> Iterator[Callable[..., ClientConnection]]:
    """Open WebSocket connections to the local stack (closed after the test)."""
    with ExitStack() as connections:

        def open_one(token: str | None = None, **options: Any) -> ClientConnection:
            return connections.enter_context(connect(_url(stack, token), open_timeout=RECEIVE_TIMEOUT, **options))

        yield open_one


def _refused(stack: LocalStack, token: str | None = None, **options: Any) -> int:
    with pytest.raises(InvalidStatus) as refused, connect(_url(stack, token), open_timeout=RECEIVE_TIMEOUT, **options):
        pass
    return refused.value.response.status_code


def _connections(tenant_id: str, user_id: str) -> list[Connection]:
    scope = Scope(tenant_id)
    with use_scope(platform_scope().with_tenant(tenant_id)):
        return list(Connection.query(keys.connections(scope, user_id), consistent_read=True))


def _eventually(check: Callable[[], bool], timeout: float = RECEIVE_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def _closed_by_server(connection: ClientConnection) -> bool:
    try:
        connection.recv(timeout=RECEIVE_TIMEOUT)
    except ConnectionClosed:
        return True
    except TimeoutError:
        return False
    return False


def _frame(text: str) -> dict[str, Any]:
    return {"type": "message", "message": {"id": new_id(), "title": text}}


# -- $connect -------------------------------------------------------------------------------
def test_a_token_in_the_query_string_connects_and_stores_the_connection(
    stack: LocalStack, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    # When the person connects with their access token
    opened(person["token"])
    # Then the connection is stored under them, under their session and by its id, with a TTL
    (stored,) = _connections(person["tenant"].id, person["id"])
    assert stored.session_id == person["session_id"]
    assert stored.ttl is not None
    assert utcnow() < stored.expires_at <= utcnow() + realtime.CONNECTION_LIFETIME
    scope = Scope(person["tenant"].id)
    with use_scope(platform_scope().with_tenant(person["tenant"].id)):
        by_session = SessionConnection.find(keys.session_connection(scope, person["session_id"], stored.connection_id))
        lookup = ConnectionLookup.find(keys.connection_lookup(stored.connection_id))
    assert by_session is not None
    assert by_session.user_id == person["id"]
    assert lookup is not None
    assert (lookup.tenant_id, lookup.user_id, lookup.session_id) == (
        person["tenant"].id,
        person["id"],
        stored.session_id,
    )


def test_a_token_as_a_subprotocol_connects_and_is_answered_riveredge(
    stack: LocalStack, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    connection = opened(subprotocols=["riveredge", f"bearer.{person['token']}"])
    assert connection.subprotocol == "riveredge"
    assert len(_connections(person["tenant"].id, person["id"])) == 1


def test_a_token_subprotocol_without_riveredge_is_400(stack: LocalStack, person: dict[str, Any]) -> None:
    assert _refused(stack, subprotocols=[f"bearer.{person['token']}"]) == 400
    assert _connections(person["tenant"].id, person["id"]) == []


def test_no_token_or_a_bad_one_is_401(stack: LocalStack, person: dict[str, Any]) -> None:
    assert _refused(stack) == 401
    assert _refused(stack, "not-a-token") == 401
    header, payload, _ = person["token"].split(".")
    assert _refused(stack, f"{header}.{payload}.AAAA") == 401  # a forged signature
    assert _refused(stack, subprotocols=["riveredge", "bearer.nope"]) == 401
    assert _connections(person["tenant"].id, person["id"]) == []


def test_an_expired_token_is_401(stack: LocalStack, person: dict[str, Any]) -> None:
    expired, _ = issue_access_token(
        tenant_id=person["tenant"].id,
        user_id=person["id"],
        session_id=person["session_id"],
        now=int(time.time()) - 3600,
    )
    assert _refused(stack, expired) == 401


def test_a_revoked_session_cannot_connect(stack: LocalStack, person: dict[str, Any]) -> None:
    assert stack.request("POST", "/api/auth/logout", token=person["token"]).status == 204
    assert _refused(stack, person["token"]) == 401


def test_ping_is_answered_pong_and_anything_else_an_error_frame(
    person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    connection = opened(person["token"])
    connection.send(json.dumps({"type": "ping"}))
    assert json.loads(connection.recv(timeout=RECEIVE_TIMEOUT)) == {"type": "pong"}
    connection.send("not json")
    assert json.loads(connection.recv(timeout=RECEIVE_TIMEOUT))["type"] == "error"


def test_disconnecting_removes_the_connection(
    stack: LocalStack, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    connection = opened(person["token"])
    (stored,) = _connections(person["tenant"].id, person["id"])
    connection.close()
    assert _eventually(lambda: _connections(person["tenant"].id, person["id"]) == [])
    with use_scope(platform_scope()):
        assert ConnectionLookup.find(keys.connection_lookup(stored.connection_id)) is None


# -- push -----------------------------------------------------------------------------------
def test_a_push_reaches_every_open_connection_of_the_user_only(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    # Given the person on two devices and someone else connected too
    first, second = opened(person["token"]), opened(stack.login(acme.code, person["email"], PASSWORD)["access_token"])
    bystander = _person(stack, acme)
    theirs = opened(bystander["token"])
    frame = _frame("Hello 世界")
    # When a message is pushed to the person
    reached = realtime.push(Scope(acme.id), person["id"], frame)
    # Then both of their connections receive it, and nobody else's
    assert reached == 2
    assert json.loads(first.recv(timeout=RECEIVE_TIMEOUT)) == frame
    assert json.loads(second.recv(timeout=RECEIVE_TIMEOUT)) == frame
    with pytest.raises(TimeoutError):
        theirs.recv(timeout=0.5)


def test_a_gone_connection_is_removed_and_not_counted(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    # Given a live connection, and a stored one whose client went away without a $disconnect
    live = opened(person["token"])
    principal = Principal(acme.id, person["id"], person["session_id"], frozenset())
    gone = realtime.register(principal, "GoneConnection0=", session_expires_at=utcnow() + realtime.CONNECTION_LIFETIME)
    assert len(_connections(acme.id, person["id"])) == 2
    # When a message is pushed
    reached = realtime.push(Scope(acme.id), person["id"], _frame("still there?"))
    # Then the live one got it, and the gone one's items are removed
    assert reached == 1
    assert json.loads(live.recv(timeout=RECEIVE_TIMEOUT))["message"]["title"] == "still there?"
    assert gone.connection_id not in [c.connection_id for c in _connections(acme.id, person["id"])]
    with use_scope(platform_scope()):
        assert ConnectionLookup.find(keys.connection_lookup(gone.connection_id)) is None


def test_a_push_to_a_user_without_connections_reaches_nobody(acme: TenantFixture, person: dict[str, Any]) -> None:
    assert realtime.push(Scope(acme.id), person["id"], _frame("nobody home")) == 0


def test_a_push_closes_a_connection_whose_session_ended_unnoticed(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    # Given a connection whose session was revoked by a write that closed nothing (a missed close)
    connection = opened(person["token"])
    scope = Scope(acme.id)
    with use_scope(scope):
        session = Session.get(*keys.session(scope, person["session_id"]))
        session.update(actions=[Session.status.set("revoked")])
    # When a message is pushed to the user
    reached = realtime.push(scope, person["id"], _frame("secret"))
    # Then it is not delivered: the connection is closed and removed
    assert reached == 0
    assert _closed_by_server(connection)
    assert _connections(acme.id, person["id"]) == []


# -- revoking a session closes its connections ------------------------------------------------
def test_logout_closes_the_sessions_connections_only(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    # Given the person connected from two sessions
    other_token = stack.login(acme.code, person["email"], PASSWORD)["access_token"]
    mine, other = opened(person["token"]), opened(other_token)
    # When the first session signs out
    assert stack.request("POST", "/api/auth/logout", token=person["token"]).status == 204
    # Then its connection is closed by the server, the other session's stays open
    assert _closed_by_server(mine)
    (left,) = _connections(acme.id, person["id"])
    assert left.session_id == claims_of(other_token)["sid"]
    assert realtime.push(Scope(acme.id), person["id"], _frame("after logout")) == 1
    assert json.loads(other.recv(timeout=RECEIVE_TIMEOUT))["message"]["title"] == "after logout"


def test_a_forced_sign_out_closes_the_sessions_connection(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    connection = opened(person["token"])
    reply = stack.request("POST", f"/api/sessions/{person['session_id']}/revoke", token=acme.admin_token)
    assert reply.status == 200, reply.body
    assert _closed_by_server(connection)
    assert _connections(acme.id, person["id"]) == []


def test_revoking_all_of_a_users_sessions_closes_their_connections(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    first = opened(person["token"])
    second = opened(stack.login(acme.code, person["email"], PASSWORD)["access_token"])
    reply = stack.request("POST", f"/api/users/{person['id']}/sessions/revoke", token=acme.admin_token)
    assert reply.status == 200, reply.body
    assert _closed_by_server(first)
    assert _closed_by_server(second)
    assert _connections(acme.id, person["id"]) == []


def test_a_password_change_closes_the_other_sessions_connections(
    stack: LocalStack, acme: TenantFixture, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    other_token = stack.login(acme.code, person["email"], PASSWORD)["access_token"]
    mine, other = opened(person["token"]), opened(other_token)
    reply = stack.request(
        "POST",
        "/api/me/password",
        token=person["token"],
        json_body={"current_password": PASSWORD, "new_password": "Battery-staple-77"},
    )
    assert reply.status == 200, reply.body
    assert _closed_by_server(other)
    (left,) = _connections(acme.id, person["id"])
    assert left.session_id == person["session_id"]
    mine.send(json.dumps({"type": "ping"}))
    assert json.loads(mine.recv(timeout=RECEIVE_TIMEOUT)) == {"type": "pong"}


def test_disabling_an_account_closes_its_connections(
    stack: LocalStack, acme: TenantFixture, opened: Callable[..., ClientConnection]
) -> None:
    created = stack.request(
        "POST",
        "/api/users",
        token=acme.admin_token,
        json_body={"email": f"d-{uuid.uuid4().hex[:8]}@acme.example", "name": "Dis Abled", "password": PASSWORD},
    ).json()
    token = stack.login(acme.code, created["email"], PASSWORD)["access_token"]
    connection = opened(token)
    reply = stack.request(
        "PUT",
        f"/api/users/{created['id']}",
        token=acme.admin_token,
        json_body={"name": "Dis Abled", "status": "disabled", "version": created["version"]},
    )
    assert reply.status == 200, reply.body
    assert _closed_by_server(connection)
    assert _connections(acme.id, created["id"]) == []


def test_close_session_closes_only_that_tenants_session(
    stack: LocalStack, acme: TenantFixture, globex: TenantFixture, opened: Callable[..., ClientConnection]
) -> None:
    # Given a person of each tenant connected
    ours, theirs = _person(stack, acme), _person(stack, globex)
    ours_connection, theirs_connection = opened(ours["token"]), opened(theirs["token"])
    # When acme's scope closes a session id of globex's
    assert realtime.close_session(Scope(acme.id), theirs["session_id"]) == 0
    # Then nothing of globex's is touched; acme's own session closes
    assert len(_connections(globex.id, theirs["id"])) == 1
    assert realtime.close_session(Scope(acme.id), ours["session_id"]) == 1
    assert _closed_by_server(ours_connection)
    theirs_connection.send(json.dumps({"type": "ping"}))
    assert json.loads(theirs_connection.recv(timeout=RECEIVE_TIMEOUT)) == {"type": "pong"}


# -- the management endpoint ------------------------------------------------------------------
def test_the_management_endpoint_answers_boto3_as_api_gateway_does(
    stack: LocalStack, person: dict[str, Any], opened: Callable[..., ClientConnection]
) -> None:
    import boto3

    assert stack.websocket is not None
    client = boto3.client("apigatewaymanagementapi", endpoint_url=stack.websocket.management_url)
    connection = opened(person["token"])
    (stored,) = _connections(person["tenant"].id, person["id"])
    described = client.get_connection(ConnectionId=stored.connection_id)
    assert described["Identity"]["SourceIp"] == "127.0.0.1"
    client.post_to_connection(ConnectionId=stored.connection_id, Data=b'{"type": "hello"}')
    assert json.loads(connection.recv(timeout=RECEIVE_TIMEOUT)) == {"type": "hello"}
    client.delete_connection(ConnectionId=stored.connection_id)
    assert _closed_by_server(connection)
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId=stored.connection_id, Data=b"{}")


# -- sample events ----------------------------------------------------------------------------
@pytest.mark.parametrize("sample", sorted((ROOT / "events" / "realtime").glob("*.json")), ids=lambda p: p.name)
def test_the_sample_events_answer_as_api_gateway_expects(stack: LocalStack, sample: Path) -> None:
    event = json.loads(sample.read_text())
    answer = stack.invoke("RealtimeFunction", event)
    expected = {"$connect": 401, "$disconnect": 200, "$default": 200}[event["requestContext"]["routeKey"]]
    assert answer["statusCode"] == expected, answer
