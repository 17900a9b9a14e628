"""Sample data of the demo tenant, one module per domain, each written through the API like a user would.

Every module here has ``seed(stack, token) -> None``; :func:`seed_all` runs them in name order (a module with
``AFTER = ("other",)`` after those) with the demo admin's access token. A module that fails stops `make run` with
its name (a demo that silently lacks a module is worse than none).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_stack.stack import LocalStack, Reply


def expect(reply: Reply, *statuses: int) -> Any:
    """The reply's JSON body when its status is one of `statuses` (201 by default), else a RuntimeError."""
    wanted = statuses or (201,)
    if reply.status not in wanted:
        raise RuntimeError(f"demo data refused: {reply.status} {reply.body!r}")
    return reply.json() if reply.body else None


def _ordered(names: list[str]) -> list[str]:
    """Module names in name order, except that a module runs after the ones its ``AFTER`` tuple names (a
    dataset needs the data source another module makes)."""
    modules = {name: importlib.import_module(f"{__name__}.{name}") for name in sorted(names)}
    ordered: list[str] = []

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise RuntimeError(f"demo modules wait for each other: {' -> '.join((*path, name))}")
        for before in getattr(modules[name], "AFTER", ()):
            place(before, (*path, name))
        ordered.append(name)

    for name in modules:
        place(name, ())
    return ordered


def seed_all(stack: LocalStack, token: str) -> list[str]:
    """Seed every domain's sample data; answers the modules that ran."""
    ran = []
    for module in _ordered([m.name for m in pkgutil.iter_modules(__path__)]):
        seed = importlib.import_module(f"{__name__}.{module}").seed
        try:
            seed(stack, token)
        except Exception as error:
            raise RuntimeError(f"demo data of {module} failed: {error}") from error
        ran.append(module)
    return ran
