"""The local HTTP servers answer without waiting: service lookup once per host, and no Nagle delay.

Both servers of the stack (moto's and the API's) are werkzeug's. It writes a response's headers and its
body in two sends; with Nagle's algorithm on, the body waits for the client's delayed ACK of the headers
(up to 40 ms on Linux): a Query answered by moto took 36-45 ms from outside, a GetItem 6 ms. The stack
sets TCP_NODELAY on their connections, as production HTTP servers do.

moto's `DomainDispatcherApplication.get_backend_for_host` lists moto's package folder (a `listdir` and
an `isdir` for each of its ~250 services) and then tries every service's URL patterns, on every request,
under one lock: in a soak it was two thirds of the stack process's CPU, and it serialised the server. The
answer depends on the host name alone, so the stack remembers it.
"""

from __future__ import annotations

import threading
from typing import Any


def install() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from werkzeug.serving import WSGIRequestHandler

    WSGIRequestHandler.disable_nagle_algorithm = True  # socketserver sets TCP_NODELAY on each connection

    if getattr(DomainDispatcherApplication.get_backend_for_host, "_riveredge", False):
        return
    original = DomainDispatcherApplication.get_backend_for_host
    known: dict[str | None, Any] = {}
    lock = threading.Lock()

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host in known:
            return known[host]
        backend = original(self, host)
        with lock:
            known[host] = backend
        return backend

    get_backend_for_host._riveredge = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
