"""API Gateway WebSocket API, locally: a real WebSocket server and the management endpoint, from template.yaml.

The WebSocket API of the template (``AWS::ApiGatewayV2::Api`` with ``ProtocolType: WEBSOCKET``) is served by a
`websockets` server on its own thread and event loop. Each connection runs the handlers of the API's routes
in the functions' environments, with the events API Gateway builds:

- the opening handshake runs ``$connect``; an answer other than 200 refuses the connection with that status,
  and a ``Sec-WebSocket-Protocol`` header of the answer is the subprotocol the handshake answers;
- each frame the client sends runs the route its ``RouteSelectionExpression`` picks (here ``$default``), and
  the handler's body goes back to the client when the route has a route response;
- the end of a connection runs ``$disconnect``.

Beside it, on a port of its own, an HTTP server answers the management API as API Gateway does at
``https://{api}.execute-api.{region}.amazonaws.com/{stage}``: ``POST /{stage}/@connections/{id}`` sends the
body to the connection, ``DELETE`` closes it, ``GET`` describes it, and an unknown connection is a 410
``GoneException``; boto3's ``apigatewaymanagementapi`` client reaches it through ``endpoint_url``
(:attr:`WebSocketGateway.management_url`, given to every function as ``WEBSOCKET_ENDPOINT``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request as HttpRequest
from werkzeug.wrappers import Response as HttpResponse

from local_stack.lambdas import FunctionError, FunctionRegistry
from local_stack.template import Resolver

logger = logging.getLogger("local_stack.websocket")
_ARN = re.compile(r"\$\{(\w+)\.Arn\}")
_INTEGRATION = re.compile(r"integrations/\$\{(\w+)\}")
MAX_FRAME = 128 * 1024  # API Gateway's limit of one WebSocket frame
CALL_TIMEOUT = 10.0  # seconds a management call waits for the event loop


@dataclass(frozen=True)
class WebSocketRoute:
    key: str  # $connect, $disconnect, $default or a selected value
    function: str  # the logical id of the function its integration invokes
    answers: bool  # a route response: the handler's body goes back to the client


@dataclass
class _Client:
    """One open connection and what API Gateway knows of it."""

    connection: ServerConnection
    connection_id: str
    connected_at: float
    source_ip: str
    user_agent: str
    last_active: float = field(default_factory=time.time)


def websocket_routes(template: dict[str, Any]) -> tuple[str | None, dict[str, WebSocketRoute], str]:
    """The template's WebSocket API: its logical id (None without one), routes by key, route selection."""
    resources = template["Resources"]
    api_id = next(
        (
            i
            for i, r in resources.items()
            if r["Type"] == "AWS::ApiGatewayV2::Api" and r["Properties"].get("ProtocolType") == "WEBSOCKET"
        ),
        None,
    )
    if api_id is None:
        return None, {}, ""
    selection = str(resources[api_id]["Properties"].get("RouteSelectionExpression", "$request.body.action"))
    integrations: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::ApiGatewayV2::Integration":
            uri = resource["Properties"]["IntegrationUri"]
            text = uri.get("Fn::Sub") if isinstance(uri, dict) else uri
            found = _ARN.search(str(text))
            if found:
                integrations[logical_id] = found.group(1)
    answered = {
        r["Properties"]["RouteId"]["Ref"] for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::RouteResponse"
    }
    routes: dict[str, WebSocketRoute] = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] != "AWS::ApiGatewayV2::Route" or props.get("ApiId", {}).get("Ref") != api_id:
            continue
        target = props.get("Target")
        text = target.get("Fn::Sub") if isinstance(target, dict) else target
        found = _INTEGRATION.search(str(text))
        if found and found.group(1) in integrations:
            key = str(props["RouteKey"])
            routes[key] = WebSocketRoute(key, integrations[found.group(1)], logical_id in answered)
    return api_id, routes, selection


def _stage(template: dict[str, Any], resolver: Resolver, api_id: str) -> str:
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::ApiGatewayV2::Stage" and props.get("ApiId", {}).get("Ref") == api_id:
            return str(resolver.resolve(props["StageName"]))
    return "local"


def new_connection_id() -> str:
    """An id shaped like API Gateway's (16 characters; URL-safe here, so it needs no escaping in paths)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode()


class WebSocketGateway:
    """Serves the template's WebSocket API from the functions' handlers (see the module's docstring)."""

    def __init__(
        self,
        template: dict[str, Any],
        resolver: Resolver,
        registry: FunctionRegistry,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        management_port: int = 0,
    ) -> None:
        self.registry = registry
        self.resolver = resolver
        api_id, self.routes, self.selection = websocket_routes(template)
        if api_id is None:
            raise ValueError("the template declares no WebSocket API")
        self.api_id = str(resolver.refs.get(api_id, "localws"))
        self.stage = _stage(template, resolver, api_id)
        self.host, self.port, self.management_port = host, port, management_port
        self.clients: dict[str, _Client] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._management: BaseWSGIServer | None = None
        self._management_thread: threading.Thread | None = None

    # -- addresses ---------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Where clients connect (``?token=<access token>``)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def management_url(self) -> str:
        """The management API's endpoint (boto3 ``endpoint_url``): the stage's URL, as in AWS."""
        return f"http://{self.host}:{self.management_port}/{self.stage}"

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> WebSocketGateway:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(self._listen())
            except BaseException as error:  # told to the starting thread
                failure.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name="websocket-gateway", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        self._management = make_server(self.host, self.management_port, self._wsgi, threaded=True)
        self.management_port = self._management.server_port
        self._management_thread = threading.Thread(
            target=self._management.serve_forever, name="websocket-management", daemon=True
        )
        self._management_thread.start()
        return self

    async def _listen(self) -> Server:
        server = await serve(
            self._serve,
            self.host,
            self.port,
            process_request=self._connect,
            select_subprotocol=self._subprotocol,
            max_size=MAX_FRAME,
            compression=None,
            logger=logging.getLogger("local_stack.websocket.server"),
        )
        self.port = int(next(iter(server.sockets)).getsockname()[1])
        return server

    def stop(self) -> None:
        if self._management is not None:
            self._management.shutdown()
        loop, server = self._loop, self._server
        if loop is not None and server is not None and loop.is_running():

            async def close() -> None:
                server.close()
                await server.wait_closed()

            try:
                asyncio.run_coroutine_threadsafe(close(), loop).result(CALL_TIMEOUT)
            except (TimeoutError, RuntimeError):
                logger.warning("the WebSocket server did not close in time")
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(CALL_TIMEOUT)

    # -- events ------------------------------------------------------------------------
    def _context(self, route_key: str, event_type: str, client: _Client, **extra: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "routeKey": route_key,
            "eventType": event_type,
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": int(client.connected_at * 1000),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": str(uuid.uuid4()),
            "extendedRequestId": str(uuid.uuid4()),
            "domainName": f"{self.host}:{self.port}",
            "connectionId": client.connection_id,
            "apiId": self.api_id,
            "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
            **extra,
        }

    def _invoke(self, route_key: str, event: dict[str, Any]) -> dict[str, Any] | None:
        route = self.routes.get(route_key)
        if route is None:
            return None
        try:
            answer = self.registry.get(route.function).invoke(event)
        except FunctionError as error:
            logger.warning("the %s handler failed: %s", route_key, error)
            return {"statusCode": 500, "body": json.dumps({"message": "Internal server error"})}
        return answer if isinstance(answer, dict) else {"statusCode": 200}

    async def _connect(self, connection: ServerConnection, request: Request) -> Response | None:
        """The opening handshake: ``$connect`` decides (and names the subprotocol)."""
        headers = dict(request.headers.raw_items())
        address = connection.remote_address
        client = _Client(
            connection,
            new_connection_id(),
            time.time(),
            str(address[0]) if address else "127.0.0.1",
            request.headers.get("User-Agent", ""),
        )
        query = parse_qs(urlsplit(request.path).query, keep_blank_values=True)
        event = {
            "headers": headers,
            "multiValueHeaders": {k: request.headers.get_all(k) for k in headers},
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "requestContext": self._context("$connect", "CONNECT", client),
            "isBase64Encoded": False,
        }
        answer = await asyncio.to_thread(self._invoke, "$connect", event) or {"statusCode": 200}
        status = int(answer.get("statusCode", 200))
        if status != 200:
            return connection.respond(status, str(answer.get("body") or "Forbidden"))
        answered = {k.lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
        connection.riveredge = (client, answered.get("sec-websocket-protocol"))  # type: ignore[attr-defined]
        return None

    @staticmethod
    def _subprotocol(connection: ServerConnection, offered: Any) -> Subprotocol | None:
        """The subprotocol ``$connect`` answered (API Gateway passes the handler's header on)."""
        accepted = getattr(connection, "riveredge", (None, None))[1]
        return Subprotocol(accepted) if accepted and accepted in offered else None

    def _selected(self, body: str) -> str:
        """The route a frame selects (``$request.body.<field>``; ``$default`` when nothing matches)."""
        field_name = self.selection.removeprefix("$request.body.")
        try:
            value = json.loads(body).get(field_name) if field_name != self.selection else None
        except (ValueError, AttributeError):
            value = None
        return str(value) if value is not None and str(value) in self.routes else "$default"

    async def _serve(self, connection: ServerConnection) -> None:
        client: _Client = connection.riveredge[0]  # type: ignore[attr-defined]
        self.clients[client.connection_id] = client
        reason, code = "", 1000
        try:
            async for frame in connection:
                client.last_active = time.time()
                body = frame if isinstance(frame, str) else frame.decode("utf-8", errors="replace")
                route_key = self._selected(body)
                event = {
                    "body": body,
                    "isBase64Encoded": False,
                    "requestContext": self._context(
                        route_key, "MESSAGE", client, messageId=str(uuid.uuid4()), messageDirection="IN"
                    ),
                }
                answer = await asyncio.to_thread(self._invoke, route_key, event)
                route = self.routes.get(route_key)
                if answer is not None and route is not None and route.answers and answer.get("body"):
                    await connection.send(str(answer["body"]))
        except ConnectionClosed as closed:
            reason, code = closed.reason, closed.code
        finally:
            self.clients.pop(client.connection_id, None)
            event = {
                "headers": {},
                "isBase64Encoded": False,
                "requestContext": self._context(
                    "$disconnect", "DISCONNECT", client, disconnectStatusCode=code, disconnectReason=reason
                ),
            }
            await asyncio.to_thread(self._invoke, "$disconnect", event)

    # -- the management API --------------------------------------------------------------
    def _call(self, coroutine: Any) -> Any:
        if self._loop is None:
            raise RuntimeError("the WebSocket server is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT)

    def post_to_connection(self, connection_id: str, data: bytes) -> bool:
        """Send `data` to a connection (a text frame when it is UTF-8, as API Gateway does); False: gone."""
        client = self.clients.get(connection_id)
        if client is None:
            return False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self._call(client.connection.send(data))
        else:
            self._call(client.connection.send(text))
        return True

    def delete_connection(self, connection_id: str) -> bool:
        """Close a connection from the server's side; False: gone."""
        client = self.clients.get(connection_id)
        if client is None:
            return False
        self._call(client.connection.close(1000, "closed by the server"))
        return True

    @staticmethod
    def _gone(connection_id: str) -> HttpResponse:
        body = json.dumps({"message": f"connection {connection_id} is gone"})
        return HttpResponse(
            body, status=410, content_type="application/json", headers={"x-amzn-ErrorType": "GoneException"}
        )

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = HttpRequest(environ)
        prefix = f"/{self.stage}/@connections/"
        path = unquote(request.path)
        if not path.startswith(prefix) or "/" in path.removeprefix(prefix):
            response = HttpResponse(json.dumps({"message": "Not found"}), status=404, content_type="application/json")
            return response(environ, start_response)
        connection_id = path.removeprefix(prefix)
        try:
            response = self._manage(request, connection_id)
        except (TimeoutError, ConnectionClosed, RuntimeError):
            response = self._gone(connection_id)
        return response(environ, start_response)

    def _manage(self, request: HttpRequest, connection_id: str) -> HttpResponse:
        if request.method == "POST":
            sent = self.post_to_connection(connection_id, request.get_data())
            return HttpResponse(status=200) if sent else self._gone(connection_id)
        if request.method == "DELETE":
            closed = self.delete_connection(connection_id)
            return HttpResponse(status=204) if closed else self._gone(connection_id)
        if request.method != "GET":
            return HttpResponse(
                json.dumps({"message": "Method not allowed"}), status=405, content_type="application/json"
            )
        client = self.clients.get(connection_id)
        if client is None:
            return self._gone(connection_id)
        described = {
            "connectedAt": datetime.fromtimestamp(client.connected_at, UTC).isoformat(),
            "lastActiveAt": datetime.fromtimestamp(client.last_active, UTC).isoformat(),
            "identity": {"sourceIp": client.source_ip, "userAgent": client.user_agent},
        }
        return HttpResponse(json.dumps(described), status=200, content_type="application/json")
