"""Integrations as other modules use them: a tenant's outbound calls through the SSRF guard, and secrets.

Every outbound HTTP call a tenant's configuration causes (webhooks, integration tests, data sources, rule
actions) goes through :func:`call`, which is :func:`riveredge.outbound.request` with the tenant's
allow-list of internal hosts (set by a platform operator; empty by default)::

    from riveredge import integrations

    answer = integrations.call(scope, "POST", url, headers=..., body=...)

Secrets (client secrets, API keys, signing secrets) are kept in Secrets Manager, one secret per
integration named ``riveredge/<stage>/integrations/<tenant id>/<integration id>``: written, rotated by
writing a new value, read only server side (:func:`read_secret`), never answered by the API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from riveredge import aws, config_cache, keys, outbound
from riveredge.db.config import OutboundAllowList
from riveredge.scope import Scope

KIND = "outbound"


def _load_allow_list(scope: Scope) -> frozenset[str]:
    found = OutboundAllowList.find(keys.outbound_allow_list(scope), consistent=False)
    return frozenset(str(host).lower() for host in (found.hosts or [])) if found else frozenset()


def allow_hosts(scope: Scope) -> frozenset[str]:
    """The internal hosts (names or CIDR networks) the tenant's outbound calls may reach."""
    return config_cache.cached(scope, KIND, "allow_list", lambda: _load_allow_list(scope))


def check_url(scope: Scope, url: str, field: str = "url") -> None:
    """The save-time check of a URL the tenant configures (no DNS; :func:`call` checks again)."""
    outbound.check_url_shape(url, allow_hosts=allow_hosts(scope), field=field)


def call(
    scope: Scope,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    field: str = "url",
    **options: Any,
) -> outbound.Response:
    """One outbound request on the tenant's behalf, through the guard (see :mod:`riveredge.outbound`)."""
    return outbound.request(
        method, url, headers=headers, body=body, allow_hosts=allow_hosts(scope), field=field, **options
    )


def check_host(scope: Scope, host: str, field: str = "host") -> None:
    """The save-time check of a database host the tenant configures (no DNS; :func:`destination` checks
    again when a connection is made)."""
    outbound.check_host_shape(host, allow_hosts=allow_hosts(scope), field=field)


def destination(scope: Scope, host: str, port: int, field: str = "host") -> outbound.Destination:
    """The checked addresses of a TCP destination (a database) the tenant's connection may use."""
    return outbound.check_host(host, port, allow_hosts=allow_hosts(scope), field=field)


def secret_name(scope: Scope, integration_id: str, kind: str = "integrations") -> str:
    """``riveredge/<stage>/<kind>/<tenant id>/<id>``: `kind` is ``integrations`` or ``datasources`` (each
    function's IAM policy names its own kind's prefix)."""
    stage = os.environ.get("STAGE", "dev")
    return f"riveredge/{stage}/{kind}/{scope.tenant_id}/{integration_id}"


def store_secret(
    scope: Scope, integration_id: str, value: str, arn: str | None = None, *, kind: str = "integrations"
) -> str:
    """Create the integration's (or data source's, `kind`) secret, or rotate it (a new version) when it has
    one; answers its ARN."""
    client = aws.secretsmanager()
    if arn:
        client.put_secret_value(SecretId=arn, SecretString=value)
        return arn
    created = client.create_secret(
        Name=secret_name(scope, integration_id, kind),
        SecretString=value,
        Tags=[{"Key": "riveredge:tenant", "Value": scope.tenant_id or "platform"}],
    )
    return str(created["ARN"])


def read_secret(arn: str) -> str:
    return str(aws.secretsmanager().get_secret_value(SecretId=arn)["SecretString"])


def delete_secret(arn: str) -> None:
    """Schedule the secret's deletion (recoverable for 7 days, as Secrets Manager allows)."""
    aws.secretsmanager().delete_secret(SecretId=arn, RecoveryWindowInDays=7)
