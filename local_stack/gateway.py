"""API Gateway (REST), locally: routes and authorizer read from template.yaml.

For each request the gateway finds the route among the functions' `Api`
events, runs the REQUEST authorizer unless the route says `Authorizer: NONE`,
builds the API Gateway proxy event (with the authorizer's context) and calls
the function's handler in-process. Refusals use the template's
GatewayResponses, as API Gateway would.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from local_stack.lambdas import FunctionError, FunctionRegistry, LocalFunction
from local_stack.template import Resolver


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    authorized: bool
    pattern: re.Pattern[str]

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in (method, "ANY"):
            return None
        found = self.pattern.fullmatch(path)
        return found.groupdict() if found else None


def _pattern(path: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("+}"):
            regex += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            regex += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(regex)  # matched whole (fullmatch): a `$` would also match before a trailing newline


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class Gateway:
    """Serves the template's REST API from in-process handlers."""

    def __init__(self, template: dict[str, Any], resolver: Resolver, registry: FunctionRegistry) -> None:
        self.registry = registry
        self.resolver = resolver
        api_id, api = next((k, r) for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Api")
        self.api = resolver.resolve(api["Properties"])
        auth = api["Properties"].get("Auth", {})
        default = auth.get("DefaultAuthorizer")
        self.authorizer: LocalFunction | None = None
        self.cache_ttl = 0
        if default:
            spec = auth["Authorizers"][default]
            self.authorizer = registry.get(spec["FunctionArn"]["Fn::GetAtt"][0])
            self.cache_ttl = int(resolver.resolve(spec.get("Identity", {}).get("ReauthorizeEvery", 0)) or 0)
        self.stage = str(self.api.get("StageName", "local"))
        self.routes: list[Route] = []
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            for event in resource.get("Properties", {}).get("Events", {}).values():
                if event.get("Type") != "Api" or event["Properties"].get("RestApiId", {}).get("Ref") != api_id:
                    continue
                props = event["Properties"]
                authorized = bool(default) and props.get("Auth", {}).get("Authorizer", default) != "NONE"
                self.routes.append(
                    Route(props["Method"].upper(), props["Path"], logical_id, authorized, _pattern(props["Path"]))
                )
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    # -- API Gateway behaviour -----------------------------------------------------------
    def _gateway_response(self, kind: str, request_id: str, default_status: int, message: str) -> GatewayResponse:
        spec = self.api.get("GatewayResponses", {}).get(kind) or self.api.get("GatewayResponses", {}).get(
            "DEFAULT_4XX", {}
        )
        status = int(spec.get("StatusCode", default_status))
        template = spec.get("ResponseTemplates", {}).get("application/json")
        body = template or json.dumps({"message": message})
        body = (
            body.replace("$context.requestId", request_id)
            .replace("$context.error.responseType.statusCode", str(status))
            .replace("$context.error.messageString", json.dumps(message))
        )
        headers = {k: v.strip("'") for k, v in spec.get("ResponseParameters", {}).get("Headers", {}).items()}
        headers.setdefault("Content-Type", "application/json")
        headers.setdefault("x-amzn-RequestId", request_id)
        return GatewayResponse(status, headers, body.encode())

    def _cors_preflight(self) -> GatewayResponse:
        cors = self.api.get("Cors", {})
        headers = {
            "Access-Control-Allow-Origin": str(cors.get("AllowOrigin", "'*'")).strip("'"),
            "Access-Control-Allow-Headers": str(cors.get("AllowHeaders", "'*'")).strip("'"),
            "Access-Control-Allow-Methods": str(cors.get("AllowMethods", "'*'")).strip("'"),
            "Access-Control-Max-Age": str(cors.get("MaxAge", "'600'")).strip("'"),
        }
        return GatewayResponse(204, headers, b"")

    def _authorize(self, route: Route, event: dict[str, Any], request_id: str) -> dict[str, Any] | GatewayResponse:
        header = next((v for k, v in event["headers"].items() if k.lower() == "authorization"), None)
        if not header:
            return self._gateway_response("UNAUTHORIZED", request_id, 401, "Unauthorized")
        cached = self._cache.get(header)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        assert self.authorizer is not None
        auth_event = {
            "type": "REQUEST",
            "methodArn": f"arn:aws:execute-api:{self.resolver.region}:{self.resolver.account_id}:local/"
            f"{self.stage}/{route.method}{event['path']}",
            "resource": route.path,
            "path": event["path"],
            "httpMethod": event["httpMethod"],
            "headers": event["headers"],
            "multiValueHeaders": event["multiValueHeaders"],
            "queryStringParameters": event["queryStringParameters"],
            "pathParameters": event["pathParameters"],
            "stageVariables": None,
            "requestContext": event["requestContext"],
        }
        try:
            answer = self.authorizer.invoke(auth_event)
        except FunctionError as error:
            if str(error) == "Unauthorized":
                return self._gateway_response("UNAUTHORIZED", request_id, 401, "Unauthorized")
            return self._gateway_response("AUTHORIZER_FAILURE", request_id, 500, "authorizer failed")
        statement = answer.get("policyDocument", {}).get("Statement", [{}])[0]
        if statement.get("Effect") != "Allow":
            return self._gateway_response("ACCESS_DENIED", request_id, 403, "denied")
        context = {**answer.get("context", {}), "principalId": answer.get("principalId")}
        if self.cache_ttl:
            self._cache[header] = (time.monotonic() + self.cache_ttl, context)
        return context

    def handle(
        self,
        method: str,
        path: str,
        query_string: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str = "127.0.0.1",
    ) -> GatewayResponse:
        """Answer one HTTP request as the deployed API would."""
        request_id = str(uuid.uuid4())
        method = method.upper()
        matched = [(r, params) for r in self.routes if (params := r.match(method, path)) is not None]
        if method == "OPTIONS" and any(r.match(r.method, path) is not None for r in self.routes):
            return self._cors_preflight()
        if not matched:
            return self._gateway_response(
                "MISSING_AUTHENTICATION_TOKEN", request_id, 403, "Missing Authentication Token"
            )
        # As API Gateway does, a literal segment wins over a {param} (GET /api/users/export, not /api/users/{user_id})
        route, path_params = min(matched, key=lambda found: len(found[1]))
        query = parse_qs(query_string, keep_blank_values=True)
        try:
            text_body: str | None = body.decode("utf-8") if body else None
            is_base64 = False
        except UnicodeDecodeError:
            text_body, is_base64 = base64.b64encode(body).decode(), True
        now = datetime.now(UTC)
        event: dict[str, Any] = {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": dict(headers),
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "body": text_body,
            "isBase64Encoded": is_base64,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{self.stage}{path}",
                "stage": self.stage,
                "requestId": request_id,
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "accountId": self.resolver.account_id,
                "apiId": "local",
                "protocol": "HTTP/1.1",
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent", "")},
            },
        }
        if route.authorized:
            authorized = self._authorize(route, event, request_id)
            if isinstance(authorized, GatewayResponse):
                return authorized
            event["requestContext"]["authorizer"] = authorized
        try:
            result = self.registry.get(route.function).invoke(event)
        except FunctionError:
            return self._gateway_response("DEFAULT_5XX", request_id, 502, "Internal server error")
        answer = self._to_response(result)
        answer.headers.setdefault("x-amzn-RequestId", request_id)
        return answer

    @staticmethod
    def _to_response(result: dict[str, Any]) -> GatewayResponse:
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers[key] = ", ".join(str(v) for v in values)
        body = result.get("body") or ""
        data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        return GatewayResponse(int(result.get("statusCode", 200)), headers, data)
