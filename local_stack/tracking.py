"""moto keeps every model object it ever makes; the local stack keeps only those moto itself needs.

moto's `BaseModel.__new__` appends each new instance to its class's `instances_tracked`, for the
moto-api dashboard (`/moto-api/data.json`). Nothing ever removes them, and moto makes model objects on
every request: each Query deep-copies the items it answers, each update copies the item it changes, each
transaction used to copy whole tables. All of them stayed reachable: about 1.3 MB per account import and
100 KB or more per request in a soak. Only S3's reset reads the list (to close its keys' buffers), so S3
keys and multipart uploads are still tracked; for every other model the dashboard lists nothing.
"""

from __future__ import annotations

from typing import Any

_TRACKED = {"FakeKey", "FakeMultipart"}  # what moto.s3's reset disposes of


def install() -> None:
    from moto.core.common_models import BaseModel

    if getattr(BaseModel.__new__, "_riveredge", False):
        return

    def __new__(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
        instance = object.__new__(cls)
        if cls.__name__ in _TRACKED:
            cls.instances_tracked.append(instance)
        return instance

    __new__._riveredge = True  # type: ignore[attr-defined]
    BaseModel.__new__ = __new__  # type: ignore[method-assign]
