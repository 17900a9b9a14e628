"""The API registry: a tenant's descriptions of the HTTP interfaces it calls, and their test runs.

An :class:`Interface` (``<scope>INTERFACE`` / ``<interface id>``) describes one operation: a method and a
path (an absolute URL, or a path on the base URL of an integration named by ``integration_id``), its path /
query / header parameters and request body as JSON Schemas, its responses as a JSON Schema per status code,
how it authenticates, a group and tags. An :class:`InterfaceRoute` claim (``<scope>INTERFACE_ROUTE`` /
``<METHOD> <path>``), written in the same transaction, keeps one interface per method and path: the path
as the OpenAPI export keys its operations (an absolute URL's path part, template names left out), so the
export never holds two operations at one place.

An :class:`InterfaceTestRun` (``<scope>INTERFACE_TEST#<interface id>`` / ``<test ulid>``) records one test
call: status, latency, a subset of the response headers, the body cut to :data:`MAX_TEST_BODY_BYTES`, and
whether it matched the documented schema. Runs expire after :data:`TEST_RUN_DAYS` days (``ttl``); each
interface's runs are a partition of their own. Written by the interfaces function through the one write path.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)

from riveredge import keys
from riveredge.db.base import TableModel
from riveredge.scope import Scope

TEST_RUN_DAYS = 30
MAX_TEST_BODY_BYTES = 4 * 1024


class Interface(TableModel, discriminator="interface"):
    """One described HTTP operation of a tenant."""

    interface_id = UnicodeAttribute()
    name = UnicodeAttribute()
    name_search = UnicodeAttribute()  # the name in lower case: what the list's `q` looks for
    group = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    method = UnicodeAttribute()  # GET | POST | PUT | PATCH | DELETE | HEAD | OPTIONS
    path = UnicodeAttribute()  # https://host/path/{param}, or /path/{param} on the integration's base URL
    route = UnicodeAttribute()  # the claim's path: the OpenAPI path with template names left out
    integration_id = UnicodeAttribute(null=True)
    parameters = JSONAttribute(null=True)  # [{name, in: path | query | header, required, description, schema}]
    request_body = JSONAttribute(null=True)  # a JSON Schema of the application/json body
    responses = JSONAttribute(null=True)  # {"200" | "2XX" | "default": {description, schema}}
    auth_type = UnicodeAttribute(default="none")  # none | integration | bearer | api_key | basic
    api_key_header = UnicodeAttribute(null=True)  # the header an api_key is sent in
    tags = UnicodeSetAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "interface"
    id_attribute: ClassVar[str] = "interface_id"

    def snapshot(self) -> dict[str, Any]:
        """The interface as the operation log shows it (the schemas by where they are, not in full)."""
        return {
            "name": self.name,
            "group": self.group,
            "method": self.method,
            "path": self.path,
            "integration_id": self.integration_id,
            "auth_type": self.auth_type,
            "tags": sorted(self.tags or []),
            "parameters": [f"{p['in']}:{p['name']}" for p in self.parameters or []],
            "request_body": self.request_body is not None,
            "responses": sorted(self.responses or {}),
        }

    @classmethod
    def new(cls, scope: Scope, interface_id: str, **attributes: Any) -> Interface:
        key = keys.interface(scope, interface_id)
        return cls(key.pk, key.sk, interface_id=interface_id, **attributes)


class InterfaceRoute(TableModel, discriminator="interface_route"):
    """Claims a method and path within a tenant for one interface (written with the interface)."""

    interface_id = UnicodeAttribute()

    @classmethod
    def new(cls, scope: Scope, method: str, route: str, interface_id: str) -> InterfaceRoute:
        key = keys.interface_route(scope, method, route)
        return cls(key.pk, key.sk, interface_id=interface_id)


class InterfaceTestRun(TableModel, discriminator="interface_test"):
    """One test call of an interface and what came back; never changed, expires with its ``ttl``."""

    test_id = UnicodeAttribute()
    interface_id = UnicodeAttribute()
    method = UnicodeAttribute()
    url = UnicodeAttribute()
    ok = BooleanAttribute(default=False)
    status = NumberAttribute(null=True)  # the remote server's status (none when it was not reached)
    latency_ms = NumberAttribute(default=0)
    response_headers = JSONAttribute(null=True)  # a subset: content-type, etag, location, rate limits ...
    body = UnicodeAttribute(null=True)  # at most MAX_TEST_BODY_BYTES of it, as text or base64
    body_encoding = UnicodeAttribute(default="utf-8")  # utf-8 | base64
    body_bytes = NumberAttribute(default=0)  # the whole body's size
    body_truncated = BooleanAttribute(default=False)
    schema_matched = BooleanAttribute(null=True)  # None: no schema documented for that status
    schema_errors = JSONAttribute(null=True)  # [{field, message}], at most ten
    error = UnicodeAttribute(null=True)  # why the call failed (the remote end could not be reached, ...)
    created_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "interface test"
    id_attribute: ClassVar[str] = "test_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "interface_id": self.interface_id,
            "method": self.method,
            "url": self.url,
            "ok": self.ok,
            "status": None if self.status is None else int(self.status),
            "schema_matched": self.schema_matched,
            "error": self.error,
        }

    @classmethod
    def new(cls, scope: Scope, interface_id: str, test_id: str, **attributes: Any) -> InterfaceTestRun:
        key = keys.interface_test(scope, interface_id, test_id)
        return cls(key.pk, key.sk, test_id=test_id, interface_id=interface_id, **attributes)
