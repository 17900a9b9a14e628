"""Integration rules: a URL is checked when saved (no DNS) and again when called (resolved, through the
guard); a secret is write-only; a test call reports what the remote server answered, never the secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

from riveredge import integrations, keys
from riveredge.actor import Actor
from riveredge.clock import iso, new_id, utcnow
from riveredge.db.changes import System, expect_version
from riveredge.db.config import Integration
from riveredge.db.models import Tenant
from riveredge.errors import ConflictError, FieldProblem, NotFoundError, ValidationError
from riveredge.outbound import OutboundError
from riveredge.schemas import stored_fields
from riveredge.scope import Scope, tenant_scope, use_scope

from integrations import repository
from integrations.models import (
    AllowListRequest,
    AllowListResponse,
    ApiConfig,
    CreateIntegrationRequest,
    IntegrationResponse,
    IntegrationTestResponse,
    OAuth2Config,
    UpdateIntegrationRequest,
    WebhookConfig,
)

MASK = "******"
URL_FIELDS = {"oauth2": ("token_url", "authorization_url"), "api": ("base_url",), "webhook": ("url",)}
NEEDS_SECRET = {"oauth2", "webhook"}


def response(integration: Integration) -> IntegrationResponse:
    return IntegrationResponse(
        **stored_fields(integration, integration.integration_id),
        name=integration.name,
        type=integration.type,
        config=dict(integration.config or {}),
        enabled=bool(integration.enabled),
        secret=MASK if integration.secret_arn else None,
        secret_updated_at=integration.secret_updated_at,
    )


def _check_urls(actor: Actor, config: dict[str, Any]) -> None:
    for name in URL_FIELDS[config["type"]]:
        if config.get(name):
            integrations.check_url(actor.scope, str(config[name]), field=f"config.{name}")


def _config(body: OAuth2Config | ApiConfig | WebhookConfig) -> dict[str, Any]:
    return body.model_dump()


def list_integrations(actor: Actor) -> list[Integration]:
    return sorted(repository.all_of(actor.scope), key=lambda i: i.integration_id)


def get(actor: Actor, integration_id: str) -> Integration:
    found = repository.find(actor.scope, integration_id)
    if found is None:
        raise NotFoundError("no such integration")
    return found


def create(actor: Actor, body: CreateIntegrationRequest) -> Integration:
    config = _config(body.config)
    _check_urls(actor, config)
    if config["type"] in NEEDS_SECRET and body.secret is None:
        raise ValidationError("secret is required", errors=[FieldProblem("secret", f"a {config['type']} needs one")])
    integration = Integration.new(
        actor.scope,
        new_id(),
        name=body.name,
        type=config["type"],
        config=config,
        enabled=body.enabled,
        secret_updated_at=iso(utcnow()) if body.secret else None,
    )
    repository.create(actor, integration, body.secret)
    return integration


def update(actor: Actor, integration_id: str, body: UpdateIntegrationRequest) -> Integration:
    integration = get(actor, integration_id)
    expect_version(integration, body.version)
    before = integration.snapshot()
    if body.config is not None:
        config = _config(body.config)
        if config["type"] != integration.type:
            raise ValidationError("config.type cannot change", errors=[FieldProblem("config.type", "cannot change")])
        _check_urls(actor, config)
        integration.config = config
    if body.name is not None:
        integration.name = body.name
    if body.enabled is not None:
        integration.enabled = body.enabled
    if body.secret is not None:
        integration.secret_updated_at = iso(utcnow())
    if integration.snapshot() != before or body.secret is not None:
        repository.save(actor, integration, before=before, secret=body.secret)
    return integration


def delete(actor: Actor, integration_id: str, version: int | None) -> None:
    integration = get(actor, integration_id)
    expect_version(integration, version)
    repository.delete(actor, integration)


# -- test calls -----------------------------------------------------------------------------------
def _request(integration: Integration, secret: str | None) -> tuple[str, str, dict[str, str], bytes | None, str]:
    """Method, URL, headers, body and the URL's field, of the call that tests `integration`."""
    config = dict(integration.config or {})
    if integration.type == "oauth2":
        form = {"grant_type": "client_credentials"}
        if config.get("scopes"):
            form["scope"] = " ".join(config["scopes"])
        basic = base64.b64encode(f"{config['client_id']}:{secret or ''}".encode()).decode()
        headers = {"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"}
        body = urllib.parse.urlencode(form).encode()
        return "POST", str(config["token_url"]), headers, body, "config.token_url"
    if integration.type == "api":
        headers = {}
        if secret:
            scheme = str(config.get("auth_scheme") or "")
            headers[str(config.get("auth_header") or "Authorization")] = f"{scheme} {secret}".strip()
        return "GET", str(config["base_url"]), headers, None, "config.base_url"
    timestamp = str(int(time.time()))
    payload = json.dumps({"type": "riveredge.test", "integration_id": integration.integration_id}).encode()
    signature = hmac.new((secret or "").encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-RiverEdge-Timestamp": timestamp,
        "X-RiverEdge-Signature": f"sha256={signature}",
    }
    return "POST", str(config["url"]), headers, payload, "config.url"


def _answered_ok(integration: Integration, status: int, body: bytes) -> str | None:
    if not 200 <= status < 300:
        return f"the remote server answered {status}"
    if integration.type == "oauth2":
        try:
            token = json.loads(body).get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            return "the token endpoint answered without an access_token"
    return None


def test(actor: Actor, integration_id: str) -> IntegrationTestResponse:
    """Call the integration's endpoint once through the guard and report how it answered."""
    integration = get(actor, integration_id)
    if not integration.enabled:
        raise ConflictError("the integration is switched off")
    secret = integrations.read_secret(integration.secret_arn) if integration.secret_arn else None
    method, url, headers, body, field = _request(integration, secret)
    started = time.monotonic()
    try:
        answer = integrations.call(actor.scope, method, url, headers=headers, body=body, field=field)
    except OutboundError as error:
        elapsed = (time.monotonic() - started) * 1000
        return IntegrationTestResponse(ok=False, status=None, latency_ms=round(elapsed, 1), url=url, error=error.detail)
    problem = _answered_ok(integration, answer.status, answer.body)
    return IntegrationTestResponse(
        ok=problem is None,
        status=answer.status,
        latency_ms=round(answer.elapsed * 1000, 1),
        url=answer.url,
        error=problem,
    )


# -- a tenant's allow-list (platform operators) ------------------------------------------------------
def _tenant_scope(actor: Actor, tenant_id: str) -> Scope:
    try:
        return actor.principal.scope.with_tenant(tenant_id)
    except ValueError:
        raise NotFoundError("no such tenant") from None


def allow_list(actor: Actor, tenant_id: str) -> AllowListResponse:
    with use_scope(_tenant_scope(actor, tenant_id)):
        Tenant.get_or_404(keys.tenant(tenant_id), missing="no such tenant")
        item = repository.allow_list(tenant_scope(tenant_id))
        return AllowListResponse(tenant_id=tenant_id, hosts=list(item.hosts or []), version=int(item.version or 0))


def set_allow_list(actor: Actor, tenant_id: str, body: AllowListRequest) -> AllowListResponse:
    with use_scope(_tenant_scope(actor, tenant_id)) as acting:
        Tenant.get_or_404(keys.tenant(tenant_id), missing="no such tenant")
        tenant = tenant_scope(tenant_id)
        item = repository.allow_list(tenant)
        expect_version(item, body.version)
        before = item.snapshot()
        hosts = list(dict.fromkeys(h.lower() for h in body.hosts))
        if hosts != list(item.hosts or []):
            item.hosts = hosts
            author = System(acting, actor.user_id, actor.request_id)
            repository.save_allow_list(author, tenant, item, before=before)
        return AllowListResponse(tenant_id=tenant_id, hosts=hosts, version=int(item.version or 0))
