"""HTTP front of the local stack: the API, the merged OpenAPI, Swagger UI and a few local-only routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local_stack.stack import LocalStack

_DOCS = """<!doctype html>
<html><head><meta charset="utf-8"><title>RiverEdge API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", persistAuthorization: true});</script>
</body></html>"""


class LocalServer:
    """A WSGI app over the stack's gateway."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self._openapi: bytes | None = None
        import swagger_ui_bundle

        self.assets = Path(swagger_ui_bundle.swagger_ui_path)

    def openapi(self) -> bytes:
        if self._openapi is None:
            self._openapi = json.dumps(self.stack.openapi(), indent=2).encode()
        return self._openapi

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/openapi.json" and request.method == "GET":
            return Response(self.openapi(), content_type="application/json")
        if path in {"/docs", "/docs/"} and request.method == "GET":
            return Response(_DOCS, content_type="text/html; charset=utf-8")
        if path.startswith("/docs/assets/") and request.method == "GET":
            name = path.removeprefix("/docs/assets/")
            asset = (self.assets / name).resolve()
            if asset.parent != self.assets.resolve() or not asset.is_file():
                return Response("not found", status=404)
            kind = "text/css" if name.endswith(".css") else "application/javascript"
            return Response(asset.read_bytes(), content_type=kind)
        if path == "/_local/health":
            return Response(json.dumps({"status": "ok"}), content_type="application/json")
        if path == "/_local/mail" and request.method == "GET":
            return Response(json.dumps(self.stack.sent_mail()), content_type="application/json")
        if path.startswith("/_local/schedules/") and path.endswith("/fire") and request.method == "POST":
            parts = path.split("/")  # /_local/schedules/<group>/<name>/fire
            if len(parts) == 6:
                fired = self.stack.scheduler.fire(parts[4], parts[3])
                return Response(json.dumps(fired, default=str), content_type="application/json")
        body = request.get_data(cache=False, as_text=False)
        headers = {key: value for key, value in request.headers.items()}
        answer = self.stack.gateway.handle(request.method, path, request.query_string.decode(), headers, body,
                                           source_ip=request.remote_addr or "127.0.0.1")
        return Response(answer.body, status=answer.status, headers=answer.headers)


def serve(stack: LocalStack, host: str, port: int) -> Any:
    """A threaded HTTP server for the stack (call serve_forever on it)."""
    return make_server(host, port, LocalServer(stack), threaded=True)
