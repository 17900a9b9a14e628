"""Serialise moto's backends.

moto's in-memory backends are not thread-safe. The moto server answers every
request on a thread of its own (the functions' environments call it
concurrently), beside Step Functions workers, event targets and the scheduler.
One re-entrant lock around each moto action makes every action atomic, as it
is in AWS, and lets local_stack.dynamodb undo a cancelled transaction item by
item. Lambda invocations are left out: a handler makes AWS calls of its own,
from its environment's process, which would wait for the lock forever. The
same wrapper notes each request for local_stack.calls.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local_stack import calls

_LOCK = threading.RLock()
_UNLOCKED_SERVICES = {"awslambda"}


@contextmanager
def locked() -> Iterator[None]:
    """Hold the moto lock: no action runs meanwhile (for reading moto's backends directly)."""
    with _LOCK:
        yield


def install() -> None:
    from moto.core.responses import BaseResponse

    if getattr(BaseResponse.call_action, "_riveredge", False):
        return
    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        calls.record(self)
        if getattr(self, "service_name", None) in _UNLOCKED_SERVICES:
            return original(self)
        with _LOCK:
            return original(self)

    call_action._riveredge = True  # type: ignore[attr-defined]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]
