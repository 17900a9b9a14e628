"""HTTP front of the local stack: the API, the merged OpenAPI, Swagger UI and a few local-only routes."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local_stack.stack import LocalStack
from local_stack.template import ROOT

# Swagger UI 5 (reads OpenAPI 3.1), from npm's swagger-ui-dist: package.json, installed by `make run`
SWAGGER_UI = ROOT / "node_modules" / "swagger-ui-dist"
_ASSET_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".map": "application/json",
    ".png": "image/png",
}

_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RiverEdge API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body style="margin: 0"><div id="ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", persistAuthorization: true});</script>
</body></html>"""


class _Reply(Response):
    """A response that carries only the headers the function gave (no default text/plain on a 204)."""

    default_mimetype = None


class LocalServer:
    """A WSGI app over the stack's gateway."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self._openapi: bytes | None = None
        self.assets = SWAGGER_UI.resolve()

    def openapi(self) -> bytes:
        if self._openapi is None:
            self._openapi = json.dumps(self.stack.openapi(), indent=2).encode()
        return self._openapi

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def _asset(self, name: str) -> Response:
        """A file of Swagger UI's directory itself (nothing above or below it), of a type it needs."""
        if not self.assets.is_dir():
            return Response(f"Swagger UI is not installed ({self.assets}): run `npm ci`", status=404)
        asset = (self.assets / name).resolve()
        kind = _ASSET_TYPES.get(asset.suffix)
        if asset.parent != self.assets or kind is None or not asset.is_file():
            return Response("not found", status=404)
        return Response(asset.read_bytes(), content_type=kind)

    def _local(self, request: Request) -> Response | None:
        """The routes the local stack adds beside the API (None: not one of them)."""
        path, method = request.path, request.method
        pages = {
            "/openapi.json": lambda: Response(self.openapi(), content_type="application/json"),
            "/docs": lambda: Response(_DOCS, content_type="text/html; charset=utf-8"),
            "/docs/": lambda: Response(_DOCS, content_type="text/html; charset=utf-8"),
            "/_local/health": lambda: Response(json.dumps({"status": "ok"}), content_type="application/json"),
            "/_local/mail": lambda: Response(json.dumps(self.stack.mail()), content_type="application/json"),
            "/_local/stats": lambda: Response(json.dumps(self.stack.stats()), content_type="application/json"),
        }
        if method == "GET" and path in pages:
            return pages[path]()
        if method == "GET" and path.startswith("/docs/assets/"):
            return self._asset(path.removeprefix("/docs/assets/"))
        parts = path.split("/")  # /_local/schedules/<group>/<name>/fire
        if method == "POST" and len(parts) == 6 and parts[1:3] == ["_local", "schedules"] and parts[5] == "fire":
            fired = self.stack.scheduler.fire(parts[4], parts[3])
            return Response(json.dumps(fired, default=str), content_type="application/json")
        return None

    def dispatch(self, request: Request) -> Response:
        local = self._local(request)
        if local is not None:
            return local
        answer = self.stack.gateway.handle(
            request.method,
            request.path,
            request.query_string.decode(),
            dict(request.headers.items()),
            request.get_data(cache=False, as_text=False),
            source_ip=request.remote_addr or "127.0.0.1",
        )
        return _Reply(answer.body, status=answer.status, headers=answer.headers)


def serve(stack: LocalStack, host: str, port: int) -> Any:
    """A threaded HTTP server for the stack (call serve_forever on it)."""
    return make_server(host, port, LocalServer(stack), threaded=True)
