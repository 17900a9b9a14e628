"""HTTP API data sources: a probe (GET of the base URL) and one call, through riveredge.integrations.call."""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from riveredge import integrations
from riveredge.datasources import Probe
from riveredge.db.data import DataSource
from riveredge.errors import FieldProblem, ValidationError
from riveredge.outbound import OutboundError
from riveredge.scope import Scope

DEFAULT_CONNECT_TIMEOUT_MS = 5_000
PROBE_READ_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 5 << 20
METHODS = frozenset({"GET", "POST"})


def _problem(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field} {message}", errors=[FieldProblem(field, message)])


def _headers(source: DataSource) -> dict[str, str]:
    """The source's own (non-secret) headers, then its authentication (the secret read here, server side)."""
    config = dict(source.config or {})
    headers = {"Accept": "application/json", **{str(k): str(v) for k, v in dict(config.get("headers") or {}).items()}}
    auth = str(config.get("auth") or "none")
    if auth == "none" or not source.secret_arn:
        return headers
    secret = integrations.read_secret(source.secret_arn)
    if auth == "bearer":
        headers["Authorization"] = f"Bearer {secret}"
    elif auth == "basic":
        pair = f"{config.get('username') or ''}:{secret}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode('ascii')}"
    elif auth == "header":
        headers[str(config.get("auth_header") or "Authorization")] = secret
    return headers


def _connect_timeout(source: DataSource) -> float:
    return int(dict(source.config or {}).get("connect_timeout_ms") or DEFAULT_CONNECT_TIMEOUT_MS) / 1000


def _url(source: DataSource, path: str, query: Mapping[str, str]) -> str:
    base = str(dict(source.config or {})["base_url"])
    if path and not path.startswith("/"):
        raise _problem("path", "must start with '/'")
    if any(char in path for char in "?#\\") or any(ord(char) <= 0x20 or ord(char) == 0x7F for char in path):
        raise _problem("path", "must not contain '?', '#', '\\', spaces or control characters (query goes in query)")
    if ".." in urllib.parse.unquote(path).split("/") or "//" in path:
        raise _problem("path", "must stay under the data source's base URL")
    parts = urllib.parse.urlsplit(base)
    joined = parts.path.rstrip("/") + path if path else parts.path
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + [(str(k), str(v)) for k, v in query.items()]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, joined or "/", urllib.parse.urlencode(pairs), ""))


def probe(scope: Scope, source: DataSource) -> Probe:
    """A GET of the base URL through the guard: its status, latency and Server header (any status is an answer)."""
    answer = integrations.call(
        scope,
        "GET",
        str(dict(source.config or {})["base_url"]),
        headers=_headers(source),
        field="config.base_url",
        connect_timeout=_connect_timeout(source),
        read_timeout=PROBE_READ_TIMEOUT_S,
        max_redirects=0,
    )
    return Probe(
        server_version=str(answer.headers.get("server", "")),
        latency_ms=round(answer.elapsed * 1000, 1),
        status=answer.status,
    )


def call(
    scope: Scope,
    source: DataSource,
    *,
    method: str,
    path: str,
    query: Mapping[str, str],
    body: Any | None,
    timeout_ms: int,
) -> Any:
    """One call of the API (see riveredge.datasources.call_api). Redirects are not followed: the source's
    credentials go to its base URL's server and nowhere else."""
    verb = method.upper()
    if verb not in METHODS:
        raise _problem("method", "must be GET or POST")
    headers = _headers(source)
    payload = None
    if body is not None:
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    answer = integrations.call(
        scope,
        verb,
        _url(source, path, query),
        headers=headers,
        body=payload,
        field="config.base_url",
        connect_timeout=_connect_timeout(source),
        read_timeout=timeout_ms / 1000,
        max_bytes=MAX_RESPONSE_BYTES,
        max_redirects=0,
    )
    if not 200 <= answer.status < 300:
        raise OutboundError("bad_status", f"the API answered {answer.status}")
    try:
        return json.loads(answer.body) if answer.body.strip() else None
    except ValueError:
        raise OutboundError("not_json", "the API's answer is not JSON") from None
