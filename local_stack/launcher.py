"""`python -m local_stack` as a process of its own, on free ports: for the e2e tests and the benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local_stack.stack import free_port
from local_stack.template import ROOT

STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0


class LaunchError(RuntimeError):
    """The stack did not come up (the message ends with the end of its output)."""


def _port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class StackProcess:
    """The local stack as `make run` starts it, with its output in `log`."""

    def __init__(self, log: Path, demo_password: str, environment: dict[str, str] | None = None) -> None:
        self.log = log
        self.port, self.moto_port = free_port(), free_port()
        while self.moto_port == self.port:
            self.moto_port = free_port()
        self.ws_port = free_port()
        while self.ws_port in (self.port, self.moto_port):
            self.ws_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.moto_url = f"http://127.0.0.1:{self.moto_port}"
        self.ws_url = f"ws://127.0.0.1:{self.ws_port}"  # the WebSocket API (its management port: any free one)
        self.environment = {
            **os.environ,
            "PORT": str(self.port),
            "MOTO_PORT": str(self.moto_port),
            "WS_PORT": str(self.ws_port),
            "WS_MANAGEMENT_PORT": "0",
            "DEMO_PASSWORD": demo_password,
            **(environment or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-20_000:]  # the end says why it stopped

    def start(self) -> StackProcess:
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "local_stack"],
                cwd=ROOT,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so it can be stopped as a whole
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LaunchError(f"the local stack exited with {self.process.returncode}:\n{self.output()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_local/health", timeout=2) as answer,  # noqa: S310
            ):
                if answer.status == 200:
                    return self
            time.sleep(0.25)
        self.stop()
        raise LaunchError(f"the local stack did not answer within {STARTUP_TIMEOUT:.0f}s:\n{self.output()}")

    def stop(self) -> None:
        """Stop the whole process group (the API, the moto server, the environments), forcibly if it lingers."""
        process = self.process
        if process is None:
            return
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if process.poll() is not None:
                break
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=STOP_TIMEOUT if sig != signal.SIGKILL else None)
            except subprocess.TimeoutExpired:
                continue
        with contextlib.suppress(ProcessLookupError):  # environments that outlived the leader go with the group
            os.killpg(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while (_port_is_open(self.moto_port) or _port_is_open(self.port)) and time.monotonic() < deadline:
            time.sleep(0.1)

    @property
    def still_listening(self) -> bool:
        return _port_is_open(self.moto_port)
