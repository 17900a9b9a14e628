"""Response bodies of the app centre routes."""

from __future__ import annotations

from riveredge.schemas import ResponseModel

from app_centre.service import AppState


class AppResponse(ResponseModel):
    code: str
    name: str
    icon: str
    route: str
    description: str
    permissions: list[str]
    core: bool
    offered: bool  # the tenant's tier offers it
    enabled: bool  # on for the tenant: offered and not switched off

    @classmethod
    def of(cls, state: AppState) -> AppResponse:
        app = state.app
        return cls(
            code=app.code,
            name=app.name,
            icon=app.icon,
            route=app.route,
            description=app.description,
            permissions=list(app.permissions),
            core=app.core,
            offered=state.offered,
            enabled=state.enabled,
        )


class AppListResponse(ResponseModel):
    items: list[AppResponse]
