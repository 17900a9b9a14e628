"""Serialise moto's backends.

moto's in-memory backends are not thread-safe (a TransactWriteItems deep-copies
a table while another thread writes to it). The local stack is multi-threaded:
the HTTP server, Step Functions workers, event targets and the scheduler. One
re-entrant lock around each moto action makes every action atomic, as it is
in AWS. Lambda invocations are left out: a handler makes AWS calls of its own,
which in server mode arrive on other threads and would wait for the lock
forever.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()
_UNLOCKED_SERVICES = {"awslambda"}


def install() -> None:
    from moto.core.responses import BaseResponse

    if getattr(BaseResponse.call_action, "_riveredge", False):
        return
    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        if getattr(self, "service_name", None) in _UNLOCKED_SERVICES:
            return original(self)
        with _LOCK:
            return original(self)

    call_action._riveredge = True  # type: ignore[attr-defined]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]
