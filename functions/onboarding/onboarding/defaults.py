"""What every new tenant starts with: the system roles and their permissions."""

from __future__ import annotations

SUPER_ADMIN = "super_admin"

# code -> (display name, description, permissions, data scope)
SYSTEM_ROLES: dict[str, tuple[str, str, list[str], str]] = {
    SUPER_ADMIN: ("Super administrator", "Everything in this organisation", ["*"], "all"),
    "admin": (
        "Administrator",
        "Manages people, organisation and access",
        [
            "user.manage",
            "role.manage",
            "permission.view",
            "department.manage",
            "position.manage",
            "menu.manage",
            "invitation.manage",
            "login_log.manage",
            "session.manage",
        ],
        "all",
    ),
    "user": (
        "User",
        "A member of the organisation",
        ["user.view", "department.view", "position.view", "menu.view"],
        "self",
    ),
    "guest": ("Guest", "Read-only visitor", ["menu.view"], "self"),
}

PLATFORM_ROLES: dict[str, tuple[str, str, list[str], str]] = {
    "platform_admin": ("Platform operator", "Operates every tenant of this deployment", ["*"], "all"),
}
