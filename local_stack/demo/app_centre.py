"""Demo menus: one entry per app of the app centre, under "System", "Configuration" and "Data centre"
directories.

Switching an app off in the app centre then visibly takes its entry out of `/api/menus/mine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riveredge.apps import APPS

from local_stack.demo import expect

if TYPE_CHECKING:
    from local_stack.stack import LocalStack

SECTIONS = {
    "/system/": ("System", "setting"),
    "/config/": ("Configuration", "control"),
    "/data/": ("Data centre", "database"),
}


def seed(stack: LocalStack, token: str) -> None:
    parents: dict[str, str] = {}
    for order, (prefix, (name, icon)) in enumerate(SECTIONS.items(), start=1):
        body = {"name": name, "type": "directory", "icon": icon, "order": order}
        parents[prefix] = expect(stack.request("POST", "/api/menus", token=token, json_body=body))["id"]
    for order, app in enumerate(APPS, start=1):
        parent = next(parents[p] for p in SECTIONS if app.route.startswith(p))
        body = {
            "name": app.name,
            "type": "menu",
            "path": app.route,
            "icon": app.icon,
            "parent_id": parent,
            "order": order,
            "permission": app.permissions[0],
        }
        expect(stack.request("POST", "/api/menus", token=token, json_body=body))
