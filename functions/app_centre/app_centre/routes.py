"""App centre routes: list the apps with their state, switch one on or off."""

from __future__ import annotations

from riveredge.http import ApiRouter, actor_of

from app_centre import service
from app_centre.models import AppListResponse, AppResponse

router = ApiRouter("apps")

CODE = "<code>"


@router.get(
    "/api/apps",
    permission="app.view",
    permission_name="View the app centre",
    summary="Every app of the platform with whether the organisation's tier offers it and whether it is on",
)
def list_apps() -> AppListResponse:
    return AppListResponse(items=[AppResponse.of(s) for s in service.list_apps(actor_of(router))])


@router.get(f"/api/apps/{CODE}", permission="app.view", summary="One app and its state")
def get_app(code: str) -> AppResponse:
    return AppResponse.of(service.get_app(actor_of(router), code))


@router.post(
    f"/api/apps/{CODE}/enable",
    permission="app.manage",
    permission_name="Switch apps on and off",
    summary="Switch an app on for the organisation (its routes and menus come back on the next request)",
)
def enable_app(code: str) -> AppResponse:
    return AppResponse.of(service.switch(actor_of(router), code, on=True))


@router.post(
    f"/api/apps/{CODE}/disable",
    permission="app.manage",
    summary="Switch an app off: its routes answer 403 naming the app and its menus disappear (core apps stay on)",
)
def disable_app(code: str) -> AppResponse:
    return AppResponse.of(service.switch(actor_of(router), code, on=False))
