"""Per-container caching of a tenant's configuration, invalidated by a stamp that every change bumps.

Configuration (dictionaries, parameters, custom-field definitions, translation bundles) is read on
almost every request and changed rarely. Each kind has a stamp item (``<scope>CONFIG_STAMP`` /
``<kind>``) whose ``value`` every change of that kind adds 1 to, in the change's own transaction::

    with change(actor, "dictionary.update", dictionary, before=before) as c:
        c.save(dictionary)
        config_cache.bump(c, "dictionaries")

A reader asks for what it wants through :func:`cached`; the loaded value is kept in this container
with the stamp it was loaded under, and served again while the stamp has not moved::

    items = config_cache.cached(scope, "dictionaries", type_code, lambda: repository.items(scope, type_code))

The stamps of a scope are read with one consistent Query (every kind at once), at most once per request:
inside :func:`request` (the HTTP resolver opens one around every route, consumers around every event)
the first read is remembered until the request ends. Outside of one, every :func:`cached` call reads
the stamps again (correct, only not memoised). A change is therefore seen by the very next request in
every container, and a request that reads ten dictionaries costs one DynamoDB call, not ten.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from threading import Lock
from typing import Any

from riveredge import keys
from riveredge.db.changes import Change
from riveredge.db.models import ConfigStamp
from riveredge.scope import Scope

MAX_ENTRIES = 1024  # values kept per container, least recently used dropped first

_values: OrderedDict[tuple[str, str, str], tuple[int, Any]] = OrderedDict()
_lock = Lock()  # the local stack serves requests on threads; Lambda never does
_request: ContextVar[dict[str, dict[str, int]] | None] = ContextVar("riveredge_config_stamps", default=None)


@contextmanager
def request() -> Iterator[None]:
    """The span within which each scope's stamps are read at most once (one request, one event)."""
    token = _request.set({})
    try:
        yield
    finally:
        _request.reset(token)


def _read_stamps(scope: Scope) -> dict[str, int]:
    found = ConfigStamp.query(keys.config_stamps(scope), consistent_read=True)
    return {item.sk: int(item.value or 0) for item in found if isinstance(item, ConfigStamp)}


def stamps(scope: Scope) -> dict[str, int]:
    """The scope's stamps by kind (0 for a kind never changed): one Query per request at most."""
    memo = _request.get()
    if memo is None:
        return _read_stamps(scope)
    if scope.prefix not in memo:
        memo[scope.prefix] = _read_stamps(scope)
    return memo[scope.prefix]


def cached[T](scope: Scope, kind: str, name: str, load: Callable[[], T]) -> T:
    """`load()`'s value for (`scope`, `kind`, `name`), loaded again only when the kind's stamp has moved."""
    stamp = stamps(scope).get(kind, 0)
    key = (scope.prefix, kind, name)
    with _lock:
        hit = _values.get(key)
        if hit is not None and hit[0] == stamp:
            _values.move_to_end(key)
            return hit[1]  # type: ignore[no-any-return]
    value = load()
    with _lock:
        _values[key] = (stamp, value)
        _values.move_to_end(key)
        while len(_values) > MAX_ENTRIES:
            _values.popitem(last=False)
    return value


def bump(c: Change, kind: str, scope: Scope | None = None) -> None:
    """Move `kind`'s stamp in the change's transaction: every container loads that kind again."""
    stamp = ConfigStamp.new(scope or c.author.scope, kind)
    # the update may create the item: it sets the discriminator too, or a Query of ConfigStamp would skip it
    c.update(stamp, [ConfigStamp.value.add(1), ConfigStamp.entity.set(ConfigStamp)], versioned=False)


def forget() -> None:
    """Drop every cached value of this container (tests that count DynamoDB calls start cold)."""
    with _lock:
        _values.clear()
