"""Menu persistence: the only code of this function that touches DynamoDB.

A menu item's materialised path (``/<root id>/.../<own id>/``) is its gsi1 sort key
in the scope's MENU_TREE partition, so the whole tree is one Query and a subtree
one ``begins_with`` Query. A parent counts its children (``child_count``): adding or
removing a child changes the count in the same transaction, without changing the
parent's version (a client editing the parent is not stale for it). Deletes need a
count of 0 and saves the count they read, so neither can miss a child added meanwhile.
"""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from riveredge import keys, oplog
from riveredge.db import TableModel, transaction
from riveredge.db.base import Transaction
from riveredge.errors import ConflictError, NotFoundError
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


def snapshot(item: MenuItem) -> dict[str, Any]:
    return {
        "name": item.name,
        "path": item.path,
        "icon": item.icon,
        "type": item.type,
        "parent_id": item.parent_id,
        "order": int(item.order or 0),
        "permission": item.permission,
        "visible": bool(item.visible),
        "status": item.status,
        "tree_path": item.tree_path,
    }


def get(scope: Scope, menu_id: str) -> MenuItem:
    """The item `menu_id` of `scope`; another tenant's item is simply not there (404)."""
    key = keys.menu(scope, menu_id)
    try:
        return MenuItem.get(key.pk, key.sk, consistent_read=True)
    except MenuItem.DoesNotExist as error:
        raise NotFoundError("no such menu item") from error


def find(scope: Scope, menu_id: str) -> MenuItem | None:
    try:
        return get(scope, menu_id)
    except NotFoundError:
        return None


def tree(scope: Scope) -> list[MenuItem]:
    """Every item of the scope, ordered by materialised path (one Query)."""
    return [i for i in MenuItem.gsi1.query(keys.menu_tree_index(scope)) if isinstance(i, MenuItem)]


def subtree(scope: Scope, item: MenuItem) -> list[MenuItem]:
    """`item` and everything under it, ordered by materialised path (one Query)."""
    found = MenuItem.gsi1.query(keys.menu_tree_index(scope), MenuItem.gsi1sk.startswith(item.tree_path))
    return [i for i in found if isinstance(i, MenuItem)]


def _adopt(tx: Transaction, parent: MenuItem, change: int) -> None:
    """Count a child more (or less) on `parent`; adopting needs the parent still where it was read."""
    counter = _ChildCount(parent.pk, parent.sk)
    condition = _ChildCount.gsi1sk == parent.tree_path if change > 0 else _ChildCount.pk.exists()
    tx.update(counter, actions=[_ChildCount.child_count.add(change)], condition=condition)


def _unchanged_children(item: MenuItem) -> Any:
    """A save's condition (beside the version): the item has the children it had when read."""
    return MenuItem.child_count == int(item.child_count or 0)


def _record(
    tx: Transaction,
    scope: Scope,
    item: MenuItem,
    action: str,
    *,
    actor_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None,
) -> None:
    oplog.record(
        tx,
        scope,
        actor_id=actor_id,
        action=action,
        resource="menu",
        resource_id=item.menu_id,
        before=before,
        after=after,
        request_id=request_id,
    )


def create(scope: Scope, item: MenuItem, parent: MenuItem | None, *, actor_id: str, request_id: str | None) -> None:
    """Store the item, count it on its parent (still where it was read) and log it: one transaction."""
    try:
        with transaction() as tx:
            tx.save(item, condition=MenuItem.pk.does_not_exist())
            if parent is not None:
                _adopt(tx, parent, +1)
            _record(
                tx,
                scope,
                item,
                "menu.create",
                actor_id=actor_id,
                before=None,
                after=snapshot(item),
                request_id=request_id,
            )
    except TransactWriteError as error:
        if error.cause_response_code == "TransactionCanceledException":
            raise ConflictError("the parent menu item was moved or deleted meanwhile; try again") from error
        raise


def update(
    scope: Scope,
    item: MenuItem,
    before: dict[str, Any],
    *,
    descendants: list[MenuItem],
    old_parent: MenuItem | None,
    new_parent: MenuItem | None,
    moved: bool,
    actor_id: str,
    request_id: str | None,
) -> bool:
    """Save the item (and on a move its descendants' new paths and both parents' counts); log it.

    Every item is saved on the version read. False when a condition failed: something changed meanwhile.
    """
    try:
        with transaction() as tx:
            tx.save(item, condition=_unchanged_children(item))
            for descendant in descendants:
                tx.save(descendant, condition=_unchanged_children(descendant))
            if moved:
                if old_parent is not None:
                    _adopt(tx, old_parent, -1)
                if new_parent is not None:
                    _adopt(tx, new_parent, +1)
            _record(
                tx,
                scope,
                item,
                "menu.edit",
                actor_id=actor_id,
                before=before,
                after=snapshot(item),
                request_id=request_id,
            )
    except TransactWriteError as error:
        if error.cause_response_code == "TransactionCanceledException":
            return False
        raise
    return True


def delete(scope: Scope, item: MenuItem, parent: MenuItem | None, *, actor_id: str, request_id: str | None) -> bool:
    """Delete a childless item on the version read, uncount it on its parent, log it. False if it changed meanwhile."""
    try:
        with transaction() as tx:
            tx.delete(item, condition=MenuItem.child_count == 0)
            if parent is not None:
                _adopt(tx, parent, -1)
            _record(
                tx,
                scope,
                item,
                "menu.delete",
                actor_id=actor_id,
                before=snapshot(item),
                after=None,
                request_id=request_id,
            )
    except TransactWriteError as error:
        if error.cause_response_code == "TransactionCanceledException":
            return False
        raise
    return True
