"""The tenancy context: which scope the current request acts in.

A scope is either one tenant (keys start with ``T#<tenant_id>#``) or the
platform (keys start with ``P#``). It is set from the verified token by the
resolver, and read by the key module and by the DynamoDB guard. It lives in a
context variable, so threads (Step Functions workers in the local stack) and
requests never share it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

PLATFORM = "platform"
_TENANT_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass(frozen=True)
class Scope:
    """Where data may be read and written: one tenant, or the platform.

    `extra_tenants` lets a platform operator act on named tenants (create,
    suspend) without opening every tenant's keys.
    """

    tenant_id: str
    extra_tenants: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.tenant_id != PLATFORM and not _TENANT_ID.match(self.tenant_id):
            raise ValueError(f"not a tenant id: {self.tenant_id!r}")

    @property
    def is_platform(self) -> bool:
        return self.tenant_id == PLATFORM

    @property
    def prefix(self) -> str:
        return "P#" if self.is_platform else f"T#{self.tenant_id}#"

    def allowed_prefixes(self) -> tuple[str, ...]:
        return (self.prefix, *(f"T#{t}#" for t in sorted(self.extra_tenants)))

    def with_tenant(self, tenant_id: str) -> Scope:
        """This platform scope, also allowed to touch `tenant_id`'s keys."""
        if not self.is_platform:
            raise PermissionError("only the platform scope may act for another tenant")
        Scope(tenant_id)  # validates the id
        return Scope(self.tenant_id, self.extra_tenants | {tenant_id})


_current: ContextVar[Scope | None] = ContextVar("riveredge_scope", default=None)


def current_scope() -> Scope | None:
    """The scope of the running request, or None outside of one."""
    return _current.get()


def require_scope() -> Scope:
    scope = _current.get()
    if scope is None:
        raise LookupError("no tenancy scope is set for this request")
    return scope


@contextmanager
def use_scope(scope: Scope) -> Iterator[Scope]:
    """Run a block in `scope`; the previous scope comes back afterwards."""
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def platform_scope() -> Scope:
    return Scope(PLATFORM)


def tenant_scope(tenant_id: str) -> Scope:
    return Scope(tenant_id)
