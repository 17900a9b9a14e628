"""Menu rules: a tree per tenant, bound to permissions.

- A button belongs to a menu (its parent is a menu item of type ``menu``) and has
  no children; directories and menus sit at the top or under a directory or menu.
- Moving an item (a new ``parent_id``) moves its subtree; an item cannot move
  under itself or one of its descendants, and a tree is at most MAX_DEPTH deep.
- An item with children cannot be deleted.
- The caller's menu holds the active, visible items whose permission the caller
  holds (or that need none); a hidden item hides its subtree, and a directory
  left without a visible child is dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from riveredge import apps
from riveredge.actor import Actor
from riveredge.authz import grants
from riveredge.clock import new_id
from riveredge.errors import (
    ConflictError,
    FieldProblem,
    NotFoundError,
    PreconditionFailedError,
    ValidationError,
)

from menus import repository
from menus.models import CreateMenuRequest, UpdateMenuRequest
from menus.repository import MenuItem

MAX_DEPTH = 8
MAX_MOVED = 90  # a move is one transaction (at most 100 writes): the item, its descendants, two parents, the log
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass
class Node:
    """A menu item with its children, ordered by (order, name)."""

    item: MenuItem
    children: list[Node] = field(default_factory=list)


def _invalid(field_name: str, message: str) -> ValidationError:
    return ValidationError(message, errors=[FieldProblem(field_name, message)])


def get(actor: Actor, menu_id: str) -> MenuItem:
    if not _ID.match(menu_id):
        raise NotFoundError("no such menu item")
    return repository.get(actor.principal.scope, menu_id)


def _parent(actor: Actor, parent_id: str | None) -> MenuItem | None:
    """The parent named in a request; a missing one is a 422 naming parent_id."""
    if parent_id is None:
        return None
    parent = repository.find(actor.principal.scope, parent_id) if _ID.match(parent_id) else None
    if parent is None:
        raise _invalid("parent_id", "no such menu item")
    return parent


def _check_placement(menu_type: str, parent: MenuItem | None) -> None:
    if menu_type == "button" and (parent is None or parent.type != "menu"):
        raise _invalid("parent_id", "a button belongs to a menu item of type menu")
    if parent is not None and parent.type == "button":
        raise _invalid("parent_id", "a button cannot have children")


def _check_route(menu_type: str, path: str | None) -> None:
    if menu_type == "menu" and not path:
        raise _invalid("path", "a menu needs the route it opens")


def create(actor: Actor, request: CreateMenuRequest) -> MenuItem:
    parent = _parent(actor, request.parent_id)
    _check_placement(request.type, parent)
    _check_route(request.type, request.path)
    if parent is not None and parent.depth >= MAX_DEPTH:
        raise _invalid("parent_id", f"menus are at most {MAX_DEPTH} levels deep")
    scope = actor.principal.scope
    item = MenuItem.new(
        scope,
        new_id(),
        parent.tree_path if parent else None,
        **request.model_dump(),
        created_by=actor.principal.user_id,
    )
    repository.create(actor, item, parent)
    return item


def update(actor: Actor, menu_id: str, request: UpdateMenuRequest) -> MenuItem:
    """Change the fields sent; a new parent_id moves the item with its subtree."""
    item = get(actor, menu_id)
    if request.version != item.version:
        raise PreconditionFailedError(f"the menu item is at version {item.version}, not {request.version}")
    scope = actor.principal.scope
    changes = request.model_dump(exclude_unset=True, exclude={"version"})
    moved = "parent_id" in changes and changes["parent_id"] != item.parent_id
    new_type = changes.get("type", item.type)
    old_parent = repository.find(scope, item.parent_id) if moved and item.parent_id else None
    new_parent = _parent(actor, changes["parent_id"]) if moved else None
    subtree = repository.subtree(scope, item) if moved or new_type != item.type else [item]
    descendants = [d for d in subtree if d.menu_id != item.menu_id]
    if moved:
        _check_move(item, new_parent, descendants)
    if moved or new_type != item.type:
        _check_type_change(item, new_type, descendants)
        placed_under = new_parent if moved else (repository.find(scope, item.parent_id) if item.parent_id else None)
        _check_placement(new_type, placed_under)
    _check_route(new_type, changes.get("path", item.path))

    before = item.snapshot()
    for name, value in changes.items():
        setattr(item, name, value)
    if moved:
        old_path = item.tree_path
        item.tree_path = f"{new_parent.tree_path if new_parent else '/'}{item.menu_id}/"
        for descendant in descendants:
            descendant.tree_path = item.tree_path + descendant.tree_path.removeprefix(old_path)
    saved = repository.update(
        actor,
        item,
        before,
        descendants=descendants if moved else [],
        old_parent=old_parent,
        new_parent=new_parent,
        moved=moved,
    )
    if not saved:
        current = repository.find(scope, menu_id)
        if current is None:
            raise NotFoundError("no such menu item")
        if current.version != request.version:
            raise PreconditionFailedError("the menu item has changed since it was read")
        raise ConflictError("the menu tree changed meanwhile; read it again and retry")
    return item


def _check_move(item: MenuItem, new_parent: MenuItem | None, descendants: list[MenuItem]) -> None:
    if new_parent is not None and new_parent.tree_path.startswith(item.tree_path):
        raise _invalid("parent_id", "a menu item cannot move under itself or one of its descendants")
    deepest = max((d.depth for d in descendants), default=item.depth) - item.depth + 1
    if (new_parent.depth if new_parent else 0) + deepest > MAX_DEPTH:
        raise _invalid("parent_id", f"menus are at most {MAX_DEPTH} levels deep")
    if len(descendants) > MAX_MOVED:
        raise _invalid("parent_id", f"a subtree of more than {MAX_MOVED} items cannot be moved at once")


def _check_type_change(item: MenuItem, new_type: str, descendants: list[MenuItem]) -> None:
    children = [d for d in descendants if d.parent_id == item.menu_id]
    if new_type == "button" and children:
        raise _invalid("type", "a menu item with children cannot become a button")
    if new_type != "menu" and any(c.type == "button" for c in children):
        raise _invalid("type", "buttons belong to a menu: this item must stay a menu while it has buttons")


def delete(actor: Actor, menu_id: str, version: int | None = None) -> None:
    item = get(actor, menu_id)
    if version is not None and version != item.version:
        raise PreconditionFailedError(f"the menu item is at version {item.version}, not {version}")
    if item.child_count:
        raise ConflictError("the menu item has children; delete or move them first")
    scope = actor.principal.scope
    parent = repository.find(scope, item.parent_id) if item.parent_id else None
    if not repository.delete(actor, item, parent):
        raise ConflictError("the menu item changed meanwhile (it may have gained children); read it again")


def tree(actor: Actor) -> list[Node]:
    """The whole tree of the caller's organisation (one Query)."""
    return build_tree(repository.tree(actor.principal.scope), lambda _: True)


def my_menu(actor: Actor) -> list[Node]:
    """What the caller may see of the tree (one Query): no menu of an app the tenant has switched off."""
    held = actor.principal.permissions
    off = actor.principal.apps_off

    def shown(item: MenuItem) -> bool:
        app = apps.of_route(item.path)
        return (
            bool(item.visible)
            and item.status == "active"
            and (item.permission is None or grants(held, item.permission))
            and (app is None or app.code not in off)
        )

    return build_tree(repository.tree(actor.principal.scope), shown, drop_empty_directories=True)


def build_tree(
    items: Iterable[MenuItem], shown: Callable[[MenuItem], bool], *, drop_empty_directories: bool = False
) -> list[Node]:
    """Nest `items` under their parents, siblings by (order, name); an item not shown hides its subtree."""
    by_parent: dict[str | None, list[MenuItem]] = defaultdict(list)
    for item in items:
        by_parent[item.parent_id].append(item)

    def children_of(parent_id: str | None, depth: int) -> list[Node]:
        nodes: list[Node] = []
        if depth > MAX_DEPTH:
            return nodes
        for item in sorted(by_parent.get(parent_id, []), key=lambda i: (int(i.order or 0), i.name)):
            if not shown(item):
                continue
            node = Node(item, children_of(item.menu_id, depth + 1))
            if drop_empty_directories and item.type == "directory" and not node.children:
                continue
            nodes.append(node)
        return nodes

    return children_of(None, 1)
