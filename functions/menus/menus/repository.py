"""Menu persistence: the only code of this function that touches DynamoDB.

A menu item's materialised path (``/<root id>/.../<own id>/``) is its gsi1 sort key
in the scope's MENU_TREE partition, so the whole tree is one Query and a subtree
one ``begins_with`` Query. A parent counts its children (``child_count``): adding or
removing a child changes the count in the same transaction, without changing the
parent's version (a client editing the parent is not stale for it). Deletes need a
count of 0 and saves the count they read, so neither can miss a child added meanwhile.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model
from riveredge import keys
from riveredge.actor import Actor
from riveredge.db import TableModel
from riveredge.db.changes import Change, change
from riveredge.errors import ConflictError, PreconditionFailedError
from riveredge.scope import Scope


class MenuItem(TableModel, discriminator="menu"):
    menu_id = UnicodeAttribute()
    name = UnicodeAttribute()
    path = UnicodeAttribute(null=True)  # the front-end route
    icon = UnicodeAttribute(null=True)
    type = UnicodeAttribute()  # directory | menu | button
    parent_id = UnicodeAttribute(null=True)
    order = NumberAttribute(default=0)
    permission = UnicodeAttribute(null=True)
    visible = BooleanAttribute(default=True)
    status = UnicodeAttribute(default="active")  # active | disabled
    child_count = NumberAttribute(default=0)
    created_by = UnicodeAttribute(null=True)

    noun: ClassVar[str] = "menu"
    id_attribute: ClassVar[str] = "menu_id"

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "icon": self.icon,
            "type": self.type,
            "parent_id": self.parent_id,
            "order": int(self.order or 0),
            "permission": self.permission,
            "visible": bool(self.visible),
            "status": self.status,
            "tree_path": self.tree_path,
        }

    @classmethod
    def new(cls, scope: Scope, menu_id: str, parent_tree_path: str | None, **attributes: Any) -> MenuItem:
        """An item under the item at `parent_tree_path` (None: a top-level item)."""
        key = keys.menu(scope, menu_id)
        item = cls(key.pk, key.sk, menu_id=menu_id, gsi1pk=keys.menu_tree_index(scope), **attributes)
        item.tree_path = f"{parent_tree_path or '/'}{menu_id}/"
        return item

    @property
    def tree_path(self) -> str:
        """The materialised path: the ids from the top-level item down to this one."""
        return str(self.gsi1sk or "")

    @tree_path.setter
    def tree_path(self, value: str) -> None:
        self.gsi1sk = value

    @property
    def depth(self) -> int:
        return self.tree_path.strip("/").count("/") + 1


class _ChildCount(Model):
    """A menu item seen as its child counter alone: counting a child leaves the item's version as it is."""

    class Meta:
        table_name = TableModel.Meta.table_name
        region = TableModel.Meta.region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1sk = UnicodeAttribute(null=True)
    child_count = NumberAttribute(default=0)


def get(scope: Scope, menu_id: str) -> MenuItem:
    """The item `menu_id` of `scope`; another tenant's item is simply not there (404)."""
    return MenuItem.get_or_404(keys.menu(scope, menu_id), missing="no such menu item")


def find(scope: Scope, menu_id: str) -> MenuItem | None:
    return MenuItem.find(keys.menu(scope, menu_id))


def tree(scope: Scope) -> list[MenuItem]:
    """Every item of the scope, ordered by materialised path (one Query)."""
    return [i for i in MenuItem.gsi1.query(keys.menu_tree_index(scope)) if isinstance(i, MenuItem)]


def subtree(scope: Scope, item: MenuItem) -> list[MenuItem]:
    """`item` and everything under it, ordered by materialised path (one Query)."""
    found = MenuItem.gsi1.query(keys.menu_tree_index(scope), MenuItem.gsi1sk.startswith(item.tree_path))
    return [i for i in found if isinstance(i, MenuItem)]


def _adopt(c: Change, parent: MenuItem, change_by: int) -> None:
    """Count a child more (or less) on `parent`; adopting needs the parent still where it was read."""
    counter = _ChildCount(parent.pk, parent.sk)
    condition = _ChildCount.gsi1sk == parent.tree_path if change_by > 0 else _ChildCount.pk.exists()
    c.tx.update(counter, actions=[_ChildCount.child_count.add(change_by)], condition=condition)


def _unchanged_children(item: MenuItem) -> Any:
    """A save's condition (beside the version): the item has the children it had when read."""
    return MenuItem.child_count == int(item.child_count or 0)


def create(actor: Actor, item: MenuItem, parent: MenuItem | None) -> None:
    """Store the item, count it on its parent (still where it was read) and log it: one transaction."""
    moved = "the parent menu item was moved or deleted meanwhile; try again"
    try:
        with change(actor, "menu.create", item) as c:
            c.create(item, conflict=moved)
            if parent is not None:
                _adopt(c, parent, +1)
    except PreconditionFailedError as error:  # the parent's counter failed its condition
        raise ConflictError(moved) from error


def update(
    actor: Actor,
    item: MenuItem,
    before: dict[str, Any],
    *,
    descendants: list[MenuItem],
    old_parent: MenuItem | None,
    new_parent: MenuItem | None,
    moved: bool,
) -> bool:
    """Save the item (and on a move its descendants' new paths and both parents' counts); log it.

    Every item is saved on the version read. False when a condition failed: something changed meanwhile.
    """
    try:
        with change(actor, "menu.edit", item, before=before) as c:
            c.save(item, condition=_unchanged_children(item))
            for descendant in descendants:
                c.save(descendant, condition=_unchanged_children(descendant))
            if moved:
                if old_parent is not None:
                    _adopt(c, old_parent, -1)
                if new_parent is not None:
                    _adopt(c, new_parent, +1)
    except (PreconditionFailedError, ConflictError):
        return False
    return True


def delete(actor: Actor, item: MenuItem, parent: MenuItem | None) -> bool:
    """Delete a childless item on the version read, uncount it on its parent, log it. False if it changed meanwhile."""
    try:
        with change(actor, "menu.delete", item, before=item.snapshot()) as c:
            c.delete(item, condition=MenuItem.child_count == 0)
            if parent is not None:
                _adopt(c, parent, -1)
    except (PreconditionFailedError, ConflictError):
        return False
    return True
