"""The upload consumer (functions/file_events): what settling one file costs.

    python benchmarks/file_events_bench.py [--files 20]

Two parts:

- **metadata work in this process**, no AWS: a file's bytes streamed through SHA-256 in the consumer's 1 MiB
  chunks, the type sniffed from its first 8 KB and judged against the declared type and name, the header
  read for dimensions (a PNG) — per file of 64 KiB, 8 MiB and 64 MiB, the median of several runs;
- **end to end on the local stack** (moto as a server, the functions in environments of their own, as in
  `make run`): `--files` PNGs uploaded one after another through the presigned POST, each timed from the
  POST's answer to the file read back as settled (the S3 notification, the consumer's read of the object,
  its transaction and the storage-warning check), and the DynamoDB requests the consumer made per file
  (local_stack.calls counts them where they arrive).

A report, not a test: times are this machine's and moto's; the request counts are deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import struct
import sys
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FILES = 20
SIZES = (64 * 1024, 8 * 1024 * 1024, 64 * 1024 * 1024)
RUNS = 5
CHUNK = 1024 * 1024
PASSWORD = "Bench-password-2026"
TENANT = "bench-files"
ADMIN_EMAIL = "admin@bench-files.example"
CONSUMER = "FileEventsFunction"
# per file: the file, the settings, the quota twice (GetItem), idempotency in progress and done, one transaction
CALLS_TARGET = 8
TIMEOUT_SECONDS = 60.0


@dataclass
class Result:
    in_process_ms: dict[int, float]  # size -> median ms
    files: int
    settle_ms: list[float]
    consumer_calls: Counter[str]

    @property
    def calls_per_file(self) -> float:
        return sum(self.consumer_calls.values()) / max(self.files, 1)


def _png(width: int, height: int, filler: int = 0) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(height))
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"tEXt", b"x" * filler)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def _metadata_ms(size: int) -> float:
    from file_events import sniffing

    content = _png(64, 64, max(size - 300, 0))
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        digest, head = hashlib.sha256(), b""
        for start in range(0, len(content), CHUNK):
            piece = content[start : start + CHUNK]
            digest.update(piece)
            if len(head) < sniffing.HEAD_BYTES:
                head += piece[: sniffing.HEAD_BYTES - len(head)]
        verdict = sniffing.judge(
            name="photo.png",
            declared_type="image/png",
            declared_size=len(content),
            size=len(content),
            head=head,
            blocked=frozenset({"application/x-executable"}),
        )
        sniffing.dimensions(verdict.content_type, head)
        digest.hexdigest()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure(files: int = FILES) -> Result:
    from local_stack.stack import OPERATOR_EMAIL, LocalStack, prepare_environment
    from local_stack.stack import ROOT as STACK_ROOT

    prepare_environment()  # before anything imports riveredge or a function
    sys.path.insert(0, str(STACK_ROOT / "functions" / "file_events"))
    in_process = {size: _metadata_ms(size) for size in SIZES}
    import requests

    from local_stack import calls

    stack = LocalStack(function_environment={"POWERTOOLS_LOG_LEVEL": "WARNING"}).start()
    try:
        stack.bootstrap_operator(PASSWORD)
        operator = stack.login("platform", OPERATOR_EMAIL, PASSWORD)["access_token"]
        stack.create_tenant(operator, TENANT, ADMIN_EMAIL, PASSWORD)
        token = stack.login(TENANT, ADMIN_EMAIL, PASSWORD)["access_token"]
        stack.settle()
        settle_ms: list[float] = []
        with calls.recording() as recorded:
            for n in range(files):
                content = _png(32, 32, 1024)
                body = {"name": f"bench-{n}.png", "content_type": "image/png", "size": len(content)}
                reply = stack.request("POST", "/api/files/uploads", token=token, json_body=body)
                if reply.status != 201:
                    raise RuntimeError(f"the upload was refused: {reply.status} {reply.body[:300]!r}")
                form, file_id = reply.json()["upload"], reply.json()["file"]["id"]
                posted = requests.post(
                    form["url"], data=form["fields"], files={"file": ("b.png", content, "image/png")}, timeout=30
                )
                if posted.status_code not in (200, 204):
                    raise RuntimeError(f"S3 refused the POST: {posted.status_code}")
                started = time.perf_counter()
                while stack.request("GET", f"/api/files/{file_id}", token=token).json()["status"] == "pending":
                    if time.perf_counter() - started > TIMEOUT_SECONDS:
                        raise TimeoutError(f"file {file_id} was not settled in {TIMEOUT_SECONDS:.0f} s")
                    time.sleep(0.005)
                settle_ms.append((time.perf_counter() - started) * 1000)
                _drain()
        consumer = Counter(c.operation for c in recorded.calls if c.service == "dynamodb" and c.caller == CONSUMER)
        return Result(in_process, files, settle_ms, consumer)
    finally:
        stack.stop()


def _drain() -> None:
    """Wait for the consumer's own return (its work after the file is settled) before the next upload."""
    import threading

    for thread in threading.enumerate():
        if thread.name == "s3-notification":
            thread.join(TIMEOUT_SECONDS)


def report(result: Result) -> list[tuple[str, str, str, bool]]:
    """Print the numbers; answer (check, value, target, met) for run.py's summary."""
    print("Metadata work per file in this process (SHA-256 in 1 MiB chunks, sniff + judge, header dimensions):")
    for size, ms in result.in_process_ms.items():
        print(f"  {size / 1024 / 1024:>8.2f} MiB   {ms:9.2f} ms   ({size / 1024 / 1024 / (ms / 1000):8.1f} MiB/s)")
    median = statistics.median(result.settle_ms)
    worst = max(result.settle_ms)
    print(f"\nEnd to end on the local stack, {result.files} PNGs of ~1 KiB one after another:")
    print(f"  POST answered -> file settled: median {median:.0f} ms, slowest {worst:.0f} ms")
    print(f"  DynamoDB requests of the consumer per file: {result.calls_per_file:.1f}")
    for operation, count in sorted(result.consumer_calls.items()):
        print(f"    {operation:<20} {count / result.files:5.1f} per file")
    return [
        ("file settle time (median)", f"{median:.0f} ms", "report", True),
        (
            "file consumer DynamoDB calls per file",
            f"{result.calls_per_file:.1f}",
            f"<= {CALLS_TARGET}",
            result.calls_per_file <= CALLS_TARGET,
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=FILES, help=f"files uploaded end to end (default {FILES})")
    args = parser.parse_args()
    report(measure(max(1, args.files)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
