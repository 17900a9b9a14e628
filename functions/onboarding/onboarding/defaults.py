"""What every new tenant starts with: the system roles and their permissions."""

from __future__ import annotations

SUPER_ADMIN = "super_admin"

# code -> (display name, description, permissions)
SYSTEM_ROLES: dict[str, tuple[str, str, list[str]]] = {
    SUPER_ADMIN: ("Super administrator", "Everything in this organisation", ["*"]),
    "admin": (
        "Administrator",
        "Manages people, organisation and configuration",
        ["user.manage", "role.manage", "department.manage", "position.manage", "menu.manage", "oplog.read"],
    ),
    "user": ("User", "A member of the organisation", ["user.read", "department.read", "menu.read"]),
    "guest": ("Guest", "Read-only visitor", ["menu.read"]),
}

PLATFORM_ROLES: dict[str, tuple[str, str, list[str]]] = {
    "platform_admin": ("Platform operator", "Operates every tenant of this deployment", ["*"]),
}
