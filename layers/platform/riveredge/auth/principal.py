"""The verified caller of a request, as the authorizer describes it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from riveredge.authz import grants
from riveredge.datascope import DataScope
from riveredge.scope import PLATFORM, Scope


@dataclass(frozen=True)
class Principal:
    """Who is calling: tenant (or platform), user, session and effective permissions."""

    tenant_id: str
    user_id: str
    session_id: str
    permissions: frozenset[str]
    data_scope: DataScope = field(default_factory=lambda: DataScope(own=True))
    department_id: str | None = None
    apps_off: frozenset[str] = frozenset()  # the apps switched off for the caller's tenant (riveredge.apps)

    @property
    def scope(self) -> Scope:
        return Scope(self.tenant_id)

    @property
    def is_platform(self) -> bool:
        return self.tenant_id == PLATFORM

    def can(self, permission: str) -> bool:
        return grants(self.permissions, permission)

    def to_context(self) -> dict[str, str]:
        """The authorizer context: flat strings, as API Gateway requires."""
        return {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "permissions": " ".join(sorted(self.permissions)),
            "data_scope": self.data_scope.to_json(),
            "department_id": self.department_id or "",
            "apps_off": " ".join(sorted(self.apps_off)),
        }

    @classmethod
    def from_context(cls, context: Mapping[str, Any] | None) -> Principal | None:
        """The principal an authorizer context stands for, or None when there is none."""
        if not context or not context.get("tenant_id") or not context.get("user_id"):
            return None
        return cls(
            tenant_id=str(context["tenant_id"]),
            user_id=str(context["user_id"]),
            session_id=str(context.get("session_id", "")),
            permissions=frozenset(str(context.get("permissions", "")).split()),
            data_scope=DataScope.from_json(context.get("data_scope")),
            department_id=str(context.get("department_id") or "") or None,
            apps_off=frozenset(str(context.get("apps_off") or "").split()),
        )
