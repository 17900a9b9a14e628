"""Request and response bodies of the menu routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator
from riveredge.schemas import RequestModel, ResponseModel, StoredObject, stored_fields

if TYPE_CHECKING:
    from menus.repository import MenuItem
    from menus.service import Node

MenuType = Literal["directory", "menu", "button"]
MenuStatus = Literal["active", "disabled"]
Name = Annotated[str, Field(min_length=1, max_length=50)]
RoutePath = Annotated[
    str,
    Field(
        pattern=r"^/[A-Za-z0-9._~:/\-]*$",
        max_length=200,
        description="The front-end route, e.g. /system/users (required for a menu)",
    ),
]
Icon = Annotated[str, Field(min_length=1, max_length=100)]
PermissionCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
        max_length=100,
        description="The permission that shows the item (module.action); null: visible to everyone",
    ),
]
ParentId = Annotated[str, Field(min_length=1, max_length=64)]
Order = Annotated[int, Field(ge=0, le=9999, description="Position among its siblings (then by name)")]


class CreateMenuRequest(RequestModel):
    name: Name
    path: RoutePath | None = None
    icon: Icon | None = None
    type: MenuType
    parent_id: ParentId | None = Field(default=None, description="The parent item; null: a top-level item")
    order: Order = 0
    permission: PermissionCode | None = None
    visible: bool = True
    status: MenuStatus = "active"


_NOT_NULL = ("name", "type", "order", "visible", "status")


class UpdateMenuRequest(RequestModel):
    """The fields to change (a field left out stays as it is); changing parent_id moves the subtree."""

    name: Name | None = None
    path: RoutePath | None = None
    icon: Icon | None = None
    type: MenuType | None = None
    parent_id: ParentId | None = Field(default=None, description="The new parent; null: make it top-level")
    order: Order | None = None
    permission: PermissionCode | None = None
    visible: bool | None = None
    status: MenuStatus | None = None
    version: int = Field(ge=0, description="The version you read; a stale one is a 412")

    @field_validator(*_NOT_NULL)
    @classmethod
    def _not_null(cls, value: object) -> object:
        """Left out, a field stays as it is; these cannot be set to null."""
        if value is None:
            raise ValueError("may not be null")
        return value


class MenuResponse(StoredObject):
    name: str
    path: str | None
    icon: str | None
    type: MenuType
    parent_id: str | None
    order: int
    permission: str | None
    visible: bool
    status: MenuStatus
    created_by: str | None = None

    @classmethod
    def of(cls, item: MenuItem) -> MenuResponse:
        return cls(**_fields(item))


def _fields(item: MenuItem) -> dict[str, object]:
    return {
        **stored_fields(item, item.menu_id),
        "name": item.name,
        "path": item.path,
        "icon": item.icon,
        "type": item.type,
        "parent_id": item.parent_id,
        "order": int(item.order or 0),
        "permission": item.permission,
        "visible": bool(item.visible),
        "status": item.status,
        "created_by": item.created_by,
    }


class MenuNodeResponse(MenuResponse):
    children: list[MenuNodeResponse] = Field(default_factory=list)

    @classmethod
    def of_node(cls, node: Node) -> MenuNodeResponse:
        return cls(**_fields(node.item), children=[cls.of_node(child) for child in node.children])


class MenuTreeResponse(ResponseModel):
    items: list[MenuNodeResponse]


class MyMenuNode(ResponseModel):
    """An item of the caller's menu, as a front end renders it."""

    id: str
    name: str
    path: str | None
    icon: str | None
    type: MenuType
    permission: str | None
    children: list[MyMenuNode] = Field(default_factory=list)

    @classmethod
    def of_node(cls, node: Node) -> MyMenuNode:
        item = node.item
        return cls(
            id=item.menu_id,
            name=item.name,
            path=item.path,
            icon=item.icon,
            type=item.type,
            permission=item.permission,
            children=[cls.of_node(child) for child in node.children],
        )


class MyMenuResponse(ResponseModel):
    items: list[MyMenuNode]
