"""Every AWS request the local moto server answers, with the function that sent it.

The functions run in processes of their own, so their AWS calls can no longer
be counted inside them; the moto server, in the stack's process, sees them
all. Each environment's SDK names its function in the User-Agent
(`AWS_SDK_UA_APP_ID`, an ordinary SDK setting that adds `app/<id>`), which is
how a request is attributed to the function (its logical id) that made it;
anything else (a test, the stack itself) is attributed to None.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

EVERYONE = "*"
_APP = re.compile(r"\bapp/([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    caller: str | None
    items: int | None = None  # how many items a batch or transaction names


@dataclass(eq=False)
class Recording:
    """The calls made while a recording was open."""

    calls: list[Call] = field(default_factory=list)

    def operations(self, service: str = "dynamodb", caller: str | None = EVERYONE) -> Counter[str]:
        """Operations of `service`, by name; only those of `caller` (a logical id, or None) when given."""
        return Counter(c.operation for c in self.calls if c.service == service and caller in (EVERYONE, c.caller))

    def sizes(self, operation: str = "TransactWriteItems") -> list[int]:
        """How many items each DynamoDB batch or transaction of that name named, in order."""
        return [c.items for c in self.calls if c.operation == operation and c.items is not None]


_recordings: list[Recording] = []
_lock = threading.Lock()


def caller_of(headers: Any) -> str | None:
    agent = str(headers.get("User-Agent") or headers.get("user-agent") or "")
    found = _APP.search(agent)
    return found.group(1) if found else None


def operation_of(response: Any) -> str:
    """The operation a moto response handler is answering (JSON protocols name it in X-Amz-Target)."""
    target = str(response.headers.get("X-Amz-Target") or "")
    if target:
        return target.rsplit(".", 1)[-1]
    try:
        return str(response._get_action())
    except Exception:  # a protocol moto parses differently: the counts are about DynamoDB
        return "unknown"


_BATCHES = {"TransactWriteItems": "TransactItems", "TransactGetItems": "TransactItems"}
_BY_TABLE = {"BatchWriteItem", "BatchGetItem"}


def _items(operation: str, body: Any) -> int | None:
    if operation not in _BATCHES and operation not in _BY_TABLE:
        return None
    try:
        request = body if isinstance(body, dict) else json.loads(body or "{}")  # moto parses JSON bodies early
    except (TypeError, ValueError):
        return None
    if operation in _BATCHES:
        return len(request.get(_BATCHES[operation], []))
    tables = request.get("RequestItems", {}).values()
    return sum(len(t["Keys"]) if isinstance(t, dict) else len(t) for t in tables)


def record(response: Any) -> None:
    """Note one request (called by the moto lock's wrapper of every action)."""
    if not _recordings:
        return
    service, operation = str(getattr(response, "service_name", "")), operation_of(response)
    items = _items(operation, getattr(response, "body", None)) if service == "dynamodb" else None
    call = Call(service, operation, caller_of(response.headers), items)
    with _lock:
        for recording in _recordings:
            recording.calls.append(call)


@contextmanager
def recording() -> Iterator[Recording]:
    """Record the AWS requests moto answers inside the block."""
    found = Recording()
    with _lock:
        _recordings.append(found)
    try:
        yield found
    finally:
        with _lock:
            _recordings.remove(found)
