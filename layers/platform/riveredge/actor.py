"""The author of a request's changes: the verified principal and the request that carries them."""

from __future__ import annotations

from dataclasses import dataclass

from riveredge.auth.principal import Principal
from riveredge.datascope import DataScope
from riveredge.scope import Scope


@dataclass(frozen=True)
class Actor:
    """Who asks, in which tenancy scope, in which request (services take it; the write path logs it)."""

    principal: Principal
    request_id: str | None

    @property
    def scope(self) -> Scope:
        return self.principal.scope

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    @property
    def data_scope(self) -> DataScope:
        return self.principal.data_scope
