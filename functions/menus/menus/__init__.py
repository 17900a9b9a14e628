"""Menus: a tree of menu items per tenant, bound to permissions; the caller's visible tree."""
