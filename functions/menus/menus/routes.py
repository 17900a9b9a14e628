"""Menu routes (thin: parse, call the service, answer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from riveredge.http import (
    AUTHENTICATED,
    DELETED,
    ApiRouter,
    VersionQuery,
    actor_of,
    created,
    created_as,
    expected_version,
    no_content,
    with_if_match,
)

from menus import service
from menus.models import (
    CreateMenuRequest,
    MenuNodeResponse,
    MenuResponse,
    MenuTreeResponse,
    MyMenuNode,
    MyMenuResponse,
    UpdateMenuRequest,
)

router = ApiRouter("menus")


@router.post(
    "/api/menus",
    permission="menu.create",
    status_code=201,
    summary="Create a menu item (directory, menu or button) bound to a permission",
    responses=created_as(MenuResponse),
)
def create_menu(body: CreateMenuRequest) -> Response[dict[str, Any]]:
    item = MenuResponse.of(service.create(actor_of(router), body))
    return created(item, f"/api/menus/{item.id}")


@router.get("/api/menus", permission="menu.view", summary="The organisation's whole menu tree, nested")
def list_menus() -> MenuTreeResponse:
    return MenuTreeResponse(items=[MenuNodeResponse.of_node(n) for n in service.tree(actor_of(router))])


# Before /api/menus/<menu_id>, so that "mine" is never taken for an id.
@router.get("/api/menus/mine", permission=AUTHENTICATED, summary="The caller's menu: what their permissions show")
def get_my_menu() -> MyMenuResponse:
    return MyMenuResponse(items=[MyMenuNode.of_node(n) for n in service.my_menu(actor_of(router))])


@router.get("/api/menus/<menu_id>", permission="menu.view", summary="Read a menu item")
def get_menu(menu_id: str) -> MenuResponse:
    return MenuResponse.of(service.get(actor_of(router), menu_id))


@router.put(
    "/api/menus/<menu_id>",
    permission="menu.edit",
    summary="Change a menu item; a new parent_id moves it with its subtree",
)
def update_menu(menu_id: str, body: UpdateMenuRequest) -> MenuResponse:
    return MenuResponse.of(service.update(actor_of(router), menu_id, with_if_match(router, body)))


@router.delete(
    "/api/menus/<menu_id>",
    permission="menu.delete",
    summary="Delete a menu item without children",
    status_code=204,
    responses=DELETED,
)
def delete_menu(menu_id: str, version: VersionQuery = None) -> Response[str]:
    service.delete(actor_of(router), menu_id, expected_version(router, version))
    return no_content()
