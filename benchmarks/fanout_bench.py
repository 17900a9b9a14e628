"""Message fan-out: an in-app push to everyone of a tenant of 10,000 people, on the local stack (moto).

    python benchmarks/fanout_bench.py [--recipients 10000]

The stack starts in this process (moto as a server, the functions in environments of their own, as in
`make run`); a tenant is onboarded and its 10,000 accounts are written straight to the table (they never
sign in). Then, timed and counted:

- the request: ``POST /api/messages/send`` to ``{"everyone": true}`` on ``in_app``, answered 202;
- the fan-out until the send is ``sent``: the outbox event through the relay and the bus to the fan-out,
  then one page message after another, each page one TransactWriteItems of its marker, a delivery record,
  an inbox message and an unread-counter ADD per person (32 people a page: 3 x 32 + 2 = 98 writes of the
  transaction's 100), and the send's counters; after each commit a push to each person's open connections
  (one Query each: nobody is connected here).

DynamoDB requests are counted where they arrive (local_stack.calls: the moto server names the function that
sent each). Write requests are PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems calls of
every function (the benchmark's own polling of the send, once a second, writes nothing); items written are the
items those calls name; read requests are the fan-out function's own. A report, not a test: the wall time is
moto's and this machine's; the call counts are deterministic.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RECIPIENTS = 10_000
PASSWORD = "Bench-password-2026"
TENANT = "bench-fanout"
ADMIN_EMAIL = "admin@bench-fanout.example"
PEOPLE_PER_PAGE = 32  # (100 - 2) // 3: what the fan-out fits into one transaction for in-app only
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
READS = ("GetItem", "Query", "BatchGetItem", "Scan", "TransactGetItems")
TIMEOUT_SECONDS = 1800.0
POLL_SECONDS = 1.0
FANOUT = "MessageFanoutFunction"


@dataclass
class Result:
    recipients: int
    request_ms: float
    fanout_seconds: float
    status: str
    delivered: int
    inbox_messages: int
    pages: int
    writes: Counter[str]
    reads: Counter[str]
    transaction_sizes: list[int]
    by_function: dict[str, int]

    @property
    def write_requests(self) -> int:
        return sum(self.writes.values())

    @property
    def items_written(self) -> int:
        return sum(self.transaction_sizes) + self.writes["PutItem"] + self.writes["UpdateItem"]

    @property
    def write_target(self) -> int:
        """One transaction per page and Powertools' two writes for its queue message (in-progress, done), plus
        the send, its start and its finish and their idempotency records."""
        return 3 * math.ceil(self.recipients / PEOPLE_PER_PAGE) + 12


def _seed_people(tenant_id: str, count: int) -> None:
    from riveredge.clock import new_id
    from riveredge.db.models import User
    from riveredge.scope import Scope, use_scope

    scope = Scope(tenant_id)
    with use_scope(scope), User.batch_write() as batch:
        for n in range(count):
            user = User.new(scope, new_id(), f"person{n:05d}@{TENANT}.example", name=f"Person {n:05d}", status="active")
            user.stamp()
            batch.save(user)


def measure(recipients: int = RECIPIENTS) -> Result:
    from local_stack.stack import OPERATOR_EMAIL, LocalStack, prepare_environment

    prepare_environment()  # before anything imports riveredge or a function
    from local_stack import calls

    stack = LocalStack(function_environment={"POWERTOOLS_LOG_LEVEL": "WARNING"}).start()
    try:
        stack.bootstrap_operator(PASSWORD)
        operator = stack.login("platform", OPERATOR_EMAIL, PASSWORD)["access_token"]
        tenant = stack.create_tenant(operator, TENANT, ADMIN_EMAIL, PASSWORD)
        token = stack.login(TENANT, ADMIN_EMAIL, PASSWORD)["access_token"]
        _seed_people(tenant["id"], recipients - 1)  # and the admin: everyone is `recipients` people
        stack.settle()
        body = {
            "title": "All hands",
            "content": "The bench says hello.",
            "recipients": {"everyone": True},
            "channels": ["in_app"],
        }
        with calls.recording() as recorded:
            started = time.perf_counter()
            reply = stack.request("POST", "/api/messages/send", token=token, json_body=body)
            request_ms = (time.perf_counter() - started) * 1000
            if reply.status != 202:
                raise RuntimeError(f"the push was refused: {reply.status} {reply.body[:300]!r}")
            send_id = reply.json()["id"]
            sent = _wait(stack, token, send_id, started)
            seconds = time.perf_counter() - started
        inbox = _count_inbox(stack, tenant["id"], send_id)
        dynamo = [c for c in recorded.calls if c.service == "dynamodb"]
        return Result(
            recipients=recipients,
            request_ms=request_ms,
            fanout_seconds=seconds,
            status=str(sent["status"]),
            delivered=int(sent["counts"]["in_app"]["delivered"]),
            inbox_messages=inbox,
            pages=_pages(tenant["id"], send_id),
            writes=Counter(c.operation for c in dynamo if c.operation in WRITES),
            reads=Counter(c.operation for c in dynamo if c.operation in READS and c.caller == FANOUT),
            transaction_sizes=[c.items or 0 for c in dynamo if c.operation == "TransactWriteItems"],
            by_function=dict(Counter(str(c.caller) for c in dynamo if c.operation in WRITES)),
        )
    finally:
        stack.stop()


def _wait(stack: Any, token: str, send_id: str, started: float) -> dict[str, Any]:
    while True:
        found: dict[str, Any] = stack.request("GET", f"/api/messages/{send_id}", token=token).json()
        if found["status"] in ("sent", "failed"):
            return found
        if time.perf_counter() - started > TIMEOUT_SECONDS:
            raise TimeoutError(f"the fan-out did not finish in {TIMEOUT_SECONDS:.0f} s: {found['status']}")
        time.sleep(POLL_SECONDS)


def _count_inbox(stack: Any, tenant_id: str, send_id: str) -> int:
    """The inbox messages of the send, counted in moto's table (not through the code being measured)."""
    from moto.dynamodb.models import dynamodb_backends

    from local_stack import serialise
    from local_stack.stack import ACCOUNT_ID, REGION

    with serialise.locked():
        table = dynamodb_backends[ACCOUNT_ID][REGION].get_table(stack.environment["TABLE_NAME"])
        return sum(
            1
            for item in table.all_items()
            if item.attrs.get("entity") is not None
            and item.attrs["entity"].value == "inbox_message"
            and item.attrs.get("send_id") is not None
            and item.attrs["send_id"].value == send_id
            and str(item.attrs["pk"].value).startswith(f"T#{tenant_id}#")
        )


def _pages(tenant_id: str, send_id: str) -> int:
    from riveredge import keys
    from riveredge.messaging.models import MessageSend
    from riveredge.scope import Scope, use_scope

    scope = Scope(tenant_id)
    with use_scope(scope):
        return int(MessageSend.get(*keys.message_send(scope, send_id)).pages or 0)


def report(result: Result) -> list[tuple[str, str, str, bool]]:
    """Print the section; answer its checks (name, value, target, met)."""
    sizes = result.transaction_sizes
    print(f"Recipients:               {result.recipients:,} (everyone of the tenant, in-app)")
    print(f"Request (202):            {result.request_ms:.1f} ms")
    print(f"Fan-out until sent:       {result.fanout_seconds:.1f} s wall ({result.status})")
    if result.fanout_seconds > 0:
        print(f"                          {result.recipients / result.fanout_seconds:,.0f} recipients a second")
    print(f"Inbox messages / counted: {result.inbox_messages:,} / {result.delivered:,} delivered")
    print(f"Pages:                    {result.pages:,}")
    print(
        f"DynamoDB write requests:  {result.write_requests:,} "
        f"({', '.join(f'{op} x{n:,}' for op, n in sorted(result.writes.items()))}); target <= {result.write_target:,}"
    )
    if sizes:
        print(f"Items per transaction:    max {max(sizes)}, mean {sum(sizes) / len(sizes):.1f} (limit 100)")
    print(f"Items written:            {result.items_written:,}")
    reads = ", ".join(f"{op} x{n:,}" for op, n in sorted(result.reads.items()))
    print(f"Fan-out's read requests:  {sum(result.reads.values()):,} ({reads})")
    print(f"Writes by function:       {', '.join(f'{k} {v:,}' for k, v in sorted(result.by_function.items()))}")
    once = result.inbox_messages == result.delivered == result.recipients and result.status == "sent"
    return [
        (
            "fan-out write requests",
            f"{result.write_requests:,}",
            f"<= {result.write_target:,}",
            result.write_requests <= result.write_target,
        ),
        ("fan-out reached each once", f"{result.inbox_messages:,}", f"= {result.recipients:,}", once),
        ("fan-out items per tx", str(max(sizes) if sizes else 0), "<= 100", bool(sizes) and max(sizes) <= 100),
        ("fan-out wall time", f"{result.fanout_seconds:.0f} s", "(report)", True),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=RECIPIENTS)
    args = parser.parse_args()
    checks = report(measure(args.recipients))
    return 0 if all(met for *_, met in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
