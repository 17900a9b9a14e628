"""Soak: thousands of mixed requests against the running local stack, memory and latency at the start and the end.

    python benchmarks/soak.py [--requests 10000] [--clients 8]     # starts its own `python -m local_stack`

The mix (weights per 100 requests): reads 55 (me, accounts, roles, departments, my menus, a tenant), writes 20
(a department created and deleted, a role updated, an account with a password created and deleted), sign-ins 16
(login 10, refresh 6), imports 5 (a small workbook uploaded through its presigned form and imported: invited
accounts and their mails; then those accounts deleted in one batch) and async work 4 (tenants created by the
operator: an onboarding execution each; a tenant suspended and resumed). What the reads list stays the same
size, so a request at the end does the same work as at the start; sessions, sign-in and operation logs, mail,
uploads and tenants accumulate, as they would. Every answer must be the one the API documents (2xx, or 412
for a role update that lost a race); anything else is counted with its status. One request at a time per
client, each client renewing its access token before it expires.

Measured, from outside the stack:
- latency of every request, p50 and p99 over the first and the last tenth of the run (after a warm-up);
- DynamoDB request time: 50 GetItem and 50 Query straight to moto, at the start and at the end;
- memory of the stack's process tree (GET /_local/stats: RSS and PSS) after the warm-up and at the end, and
  the data written meanwhile (DynamoDB item bytes, S3 bytes, mail), so growth can be set against it. Growth is
  that of the processes there after the warm-up; an environment started later (a function reaching a new
  concurrency high, capped per function) is reported apart: it is a bounded cost, not a leak.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "Soak-password-2026"
MEMORY_TARGET_MB = 100.0
LATENCY_RATIO_TARGET = 1.5
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Sample:
    kind: str
    status: int
    ms: float
    ok: bool


@dataclass
class SoakResult:
    requests: int
    clients: int
    seconds: float
    samples: list[Sample]
    start_stats: dict[str, Any]
    end_stats: dict[str, Any]
    dynamodb_start_ms: dict[str, float]
    dynamodb_end_ms: dict[str, float]
    errors: Counter[str] = field(default_factory=Counter)
    mid_stats: dict[str, Any] | None = None  # between the run's two halves

    def window(self, first: bool) -> list[float]:
        tenth = max(1, len(self.samples) // 10)
        chosen = self.samples[:tenth] if first else self.samples[-tenth:]
        return sorted(s.ms for s in chosen)

    @staticmethod
    def percentile(values: list[float], p: float) -> float:
        if not values:
            return float("nan")
        return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]

    @property
    def p99_ratio(self) -> float:
        return self.percentile(self.window(False), 99) / self.percentile(self.window(True), 99)

    def _grown(self, measure: str) -> float:
        """Growth of the processes that were there at the start (the stack, the fork server, the environments
        the warm-up started): an environment started during the run is a new process, not growth."""
        before = self.start_stats["memory"]["by_process"]
        after = self.end_stats["memory"]["by_process"]
        return float(sum(after[pid][measure] - before[pid][measure] for pid in before if pid in after))

    def _steady(self, measure: str) -> float:
        """Growth that repeats: per process, the smaller of its growth in the first and in the second half of
        the run, times two (the whole run's worth).

        A leak grows with traffic, so it shows in both halves. A one-off does not: an environment that serves
        its first workbook import (openpyxl loaded, its arenas grown) late in the run, because the pool hands
        out the most recently used environment first and so a spare one may sit out the warm-up. Counting
        that as growth made the bound depend on how requests happened to interleave (on a loaded CI machine
        an idle environment's first import counted 86 MB)."""
        if self.mid_stats is None:
            return self._grown(measure)
        before = self.start_stats["memory"]["by_process"]
        mid = self.mid_stats["memory"]["by_process"]
        after = self.end_stats["memory"]["by_process"]
        total = 0.0
        for pid, was in before.items():
            if pid in mid and pid in after:
                first, second = mid[pid][measure] - was[measure], after[pid][measure] - mid[pid][measure]
                total += 2 * max(0.0, min(first, second))
        return total

    def growth_by_role(self) -> dict[str, float]:
        """PSS growth (MB) of the processes there at the start, by role (the stack, each function's environments)."""
        before = self.start_stats["memory"]["by_process"]
        after = self.end_stats["memory"]["by_process"]
        grown: dict[str, float] = {}
        for pid, was in before.items():
            if pid in after:
                grown[was["role"]] = grown.get(was["role"], 0.0) + after[pid]["pss_mb"] - was["pss_mb"]
        return grown

    @property
    def started_environments(self) -> tuple[int, float]:
        """Environments started during the run (after the warm-up), and their memory (PSS, MB)."""
        before = self.start_stats["memory"]["by_process"]
        new = [p for pid, p in self.end_stats["memory"]["by_process"].items() if pid not in before]
        return len(new), sum(float(p["pss_mb"]) for p in new)

    @property
    def data_written_mb(self) -> float:
        start, end = self.start_stats["data"], self.end_stats["data"]
        written = sum(end[k] - start[k] for k in ("dynamodb_bytes", "s3_bytes", "mail_bytes"))
        return float(written) / 1024 / 1024

    @property
    def pss_growth_mb(self) -> float:
        return self._grown("pss_mb")

    @property
    def rss_growth_mb(self) -> float:
        return self._grown("rss_mb")

    @property
    def steady_growth_mb(self) -> float:
        return self._steady("pss_mb")

    @property
    def growth_beyond_data_mb(self) -> float:
        """What the bound holds: the growth that repeats in both halves of the run, less the data written."""
        return self.steady_growth_mb - self.data_written_mb


class Client:
    """One signed-in API client (a requests session), with what it created along the way."""

    def __init__(self, base: str, tenant: str, email: str, password: str) -> None:
        import requests

        self.base, self.http = base, requests.Session()
        self.tenant, self.email, self.password = tenant, email, password
        self.refresh_token = ""
        self.token = ""
        self.expires = 0.0
        self.lock = threading.Lock()  # one request at a time per client: a refresh rotates its tokens
        self.sign_in()

    def _keep(self, answer: Any) -> Any:
        if answer.status_code == 200:
            tokens = answer.json()
            self.token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
            self.expires = time.time() + float(tokens.get("expires_in", 900))
        return answer

    def sign_in(self) -> Any:
        answer = self.http.post(
            f"{self.base}/api/auth/login",
            json={"tenant": self.tenant, "email": self.email, "password": self.password},
            timeout=60,
        )
        return self._keep(answer)

    def refresh(self) -> Any:
        answer = self.http.post(f"{self.base}/api/auth/refresh", json={"refresh_token": self.refresh_token}, timeout=60)
        return self._keep(answer)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        if self.expires - time.time() < 120:  # a long soak outlives an access token: refresh it first
            self.refresh()
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, f"{self.base}{path}", headers=headers, timeout=60, **kwargs)


def _workbook(rows: int, stem: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Accounts")
    sheet.append(["email", "name"])
    for n in range(rows):
        sheet.append([f"{stem}-{n}@soak.example", f"Soak {n}"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class Mix:
    """The soak's requests: each picks a kind by weight and says whether its answer is the documented one."""

    def __init__(self, base: str, operator: Client, admins: list[Client], tenant_id: str) -> None:
        self.base, self.operator, self.admins, self.tenant_id = base, operator, admins, tenant_id
        self.roles: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.counter = itertools.count()
        admin = admins[0]
        for n in range(4):
            body = {"name": f"soak_role_{n}_{uuid.uuid4().hex[:6]}", "display_name": "Soak", "data_scope": "self"}
            answer = admin.call("POST", "/api/roles", json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"could not create a role: {answer.status_code} {answer.text[:300]}")
            self.roles.append(answer.json())
        self.kinds: list[tuple[str, int, Callable[[Client], tuple[Any, tuple[int, ...]]]]] = [
            ("read: me", 15, lambda c: (c.call("GET", "/api/auth/me"), (200,))),
            ("read: accounts", 10, lambda c: (c.call("GET", "/api/users?limit=20"), (200,))),
            ("read: roles", 10, lambda c: (c.call("GET", "/api/roles"), (200,))),
            ("read: departments", 10, lambda c: (c.call("GET", "/api/departments"), (200,))),
            ("read: my menus", 5, lambda c: (c.call("GET", "/api/menus/mine"), (200,))),
            ("read: tenant", 5, lambda c: (self.operator_call("GET", f"/api/tenants/{self.tenant_id}"), (200,))),
            ("write: department", 8, self.create_department),
            ("write: role update", 6, self.update_role),
            ("write: account", 6, self.create_account),
            ("sign-in: login", 10, lambda c: (c.sign_in(), (200,))),
            ("sign-in: refresh", 6, lambda c: (c.refresh(), (200,))),
            ("import: workbook", 5, self.import_workbook),
            ("async: tenant", 2, self.create_tenant),
            ("async: suspend and resume", 2, self.suspend_and_resume),
        ]
        self.weights = [w for _, w, _ in self.kinds]

    def unique(self) -> str:
        return f"{next(self.counter):06d}{uuid.uuid4().hex[:4]}"

    def create_department(self, client: Client) -> tuple[Any, tuple[int, ...]]:
        """A department created, then deleted (the tree every read lists stays the same size)."""
        code = f"SOAK-{self.unique()}".upper()
        created = client.call("POST", "/api/departments", json={"name": f"Soak {code}", "code": code})
        if created.status_code != 201:
            return created, (201,)
        department = created.json()
        return client.call("DELETE", f"/api/departments/{department['id']}?version={department['version']}"), (204,)

    def update_role(self, client: Client) -> tuple[Any, tuple[int, ...]]:
        role = random.choice(self.roles)
        current = client.call("GET", f"/api/roles/{role['id']}").json()
        body = {"display_name": f"Soak {self.unique()}", "data_scope": "self", "version": current["version"]}
        return client.call("PUT", f"/api/roles/{role['id']}", json=body), (200, 412)  # 412: another client won

    def create_account(self, client: Client) -> tuple[Any, tuple[int, ...]]:
        """An account created with a password, then deleted."""
        body = {"email": f"soak-{self.unique()}@soak.example", "name": "Soak", "password": PASSWORD}
        created = client.call("POST", "/api/users", json=body)
        if created.status_code != 201:
            return created, (201,)
        account = created.json()
        return client.call("DELETE", f"/api/users/{account['id']}?version={account['version']}"), (204,)

    def import_workbook(self, client: Client) -> tuple[Any, tuple[int, ...]]:
        stem = f"imp-{self.unique()}"
        form = client.call("POST", "/api/users/imports/uploads")
        if form.status_code != 200:
            return form, (200,)
        fields = form.json()
        upload = client.http.post(
            fields["url"],
            data=fields["fields"],
            files={"file": ("accounts.xlsx", _workbook(3, stem), XLSX)},
            timeout=60,
        )
        if upload.status_code >= 300:
            return upload, (204,)
        imported = client.call("POST", "/api/users/imports", json={"key": fields["key"]})
        if imported.status_code != 200:
            return imported, (200,)
        # then the imported accounts go again, in one batch (the tenant's accounts stay as many)
        found = client.call("GET", f"/api/users?limit=20&q={stem}").json()["items"]
        ids = [a["id"] for a in found]
        if not ids:
            return imported, (200,)
        return client.call("POST", "/api/users/batch", json={"action": "delete", "user_ids": ids}), (200,)

    def operator_call(self, method: str, path: str, **kwargs: Any) -> Any:
        with self.operator.lock:  # every client's thread shares the one operator
            return self.operator.call(method, path, **kwargs)

    def create_tenant(self, client: Client) -> tuple[Any, tuple[int, ...]]:
        code = f"soak-{self.unique()}"
        body = {
            "code": code,
            "name": f"Soak {code}",
            "tier": "standard",
            "admin": {"email": f"admin@{code}.example", "name": "Soak Admin", "password": PASSWORD},
        }
        return self.operator_call("POST", "/api/tenants", json=body), (201,)

    def suspend_and_resume(self, client: Client) -> tuple[Any, tuple[int, ...]]:
        tenants = self.operator_call("GET", "/api/tenants?limit=50").json()["items"]
        soaked = [t for t in tenants if t["code"].startswith("soak-") and t["status"] == "active"]
        if not soaked:
            return self.operator_call("GET", "/api/tenants?limit=1"), (200,)
        tenant = random.choice(soaked)
        suspended = self.operator_call("POST", f"/api/tenants/{tenant['id']}/suspend", json={})
        if suspended.status_code != 200:
            return suspended, (200,)
        return self.operator_call("POST", f"/api/tenants/{tenant['id']}/resume", json={}), (200,)

    def one(self, n: int) -> Sample:
        (kind, _, send) = random.choices(self.kinds, weights=self.weights)[0]
        client = self.admins[n % len(self.admins)]
        with client.lock:
            started = time.perf_counter()
            try:
                answer, expected = send(client)
                status = int(answer.status_code)
            except Exception:  # a broken connection or a timeout counts as an error, not a crash of the soak
                status, expected = 0, (200,)
            ms = (time.perf_counter() - started) * 1000
        return Sample(kind, status, ms, status in expected)


def _dynamodb_timing(moto_url: str, table: str, tenant_id: str) -> dict[str, float]:
    """Median time of a GetItem and of a Query straight to moto (no application code in between)."""
    import boto3

    from local_stack.stack import prepare_environment

    prepare_environment()
    from riveredge.scope import tenant_scope, use_scope  # the tenant guard checks these requests too

    client = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    key = {"pk": {"S": f"T#{tenant_id}#TENANT"}, "sk": {"S": "TENANT"}}
    timings: dict[str, list[float]] = {"GetItem": [], "Query": []}
    with use_scope(tenant_scope(tenant_id)):
        _time_requests(client, table, key, tenant_id, timings)
    return {op: statistics.median(values) for op, values in timings.items()}


def _time_requests(
    client: Any, table: str, key: dict[str, Any], tenant_id: str, timings: dict[str, list[float]]
) -> None:
    for _ in range(50):
        started = time.perf_counter()
        client.get_item(TableName=table, Key=key)
        timings["GetItem"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": f"T#{tenant_id}#USER"}},
            Limit=20,
        )
        timings["Query"].append((time.perf_counter() - started) * 1000)


def run(
    base: str,
    moto_url: str,
    demo_password: str,
    total: int = 10_000,
    clients: int = 8,
    warmup: int | None = None,
    seed: int = 7,
) -> SoakResult:
    """Drive `total` mixed requests at the stack at `base` from `clients` threads."""
    import requests

    from local_stack.stack import DEMO_ADMIN_EMAIL, DEMO_TENANT, OPERATOR_EMAIL

    random.seed(seed)
    operator = Client(base, "platform", OPERATOR_EMAIL, demo_password)
    admins = [Client(base, DEMO_TENANT, DEMO_ADMIN_EMAIL, demo_password) for _ in range(clients)]
    me = admins[0].call("GET", "/api/auth/me").json()
    tenant_id = me["tenant"]["id"]
    mix = Mix(base, operator, admins, tenant_id)
    table = "riveredge-local"

    def stats() -> dict[str, Any]:
        return dict(requests.get(f"{base}/_local/stats", timeout=120).json())

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(mix.one, range(warmup if warmup is not None else max(500, total // 10))))
        start_stats = stats()
        dynamodb_start = _dynamodb_timing(moto_url, table, tenant_id)
        started = time.perf_counter()
        samples = list(pool.map(mix.one, range(total // 2)))
        paused = time.perf_counter()
        mid_stats = stats()
        resumed = time.perf_counter()
        samples += list(pool.map(mix.one, range(total // 2, total)))
        seconds = time.perf_counter() - resumed + (paused - started)
    dynamodb_end = _dynamodb_timing(moto_url, table, tenant_id)
    end_stats = stats()
    errors = Counter(f"{s.kind} -> {s.status}" for s in samples if not s.ok)
    return SoakResult(
        total, clients, seconds, samples, start_stats, end_stats, dynamodb_start, dynamodb_end, errors, mid_stats
    )


def report(result: SoakResult) -> list[tuple[str, str, str, bool]]:
    """Print the soak's figures; answers (check, value, target, met) rows for the benchmark summary."""
    first, last = result.window(True), result.window(False)
    pct = SoakResult.percentile
    print(
        f"{result.requests:,} requests from {result.clients} clients in {result.seconds:.1f} s "
        f"({result.requests / result.seconds:.0f} requests/s); {sum(result.errors.values())} unexpected answers"
    )
    for what, count in result.errors.most_common(10):
        print(f"  unexpected: {what} x{count}")
    kinds = Counter(s.kind for s in result.samples)
    print("\nLatency by kind (ms):")
    print(f"  {'Kind':<28} {'Count':>6} {'p50':>8} {'p99':>8}")
    for kind, count in sorted(kinds.items()):
        values = sorted(s.ms for s in result.samples if s.kind == kind)
        print(f"  {kind:<28} {count:>6} {pct(values, 50):>8.1f} {pct(values, 99):>8.1f}")
    print(f"\n  {'Window':<28} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"  {'first tenth':<28} {pct(first, 50):>8.1f} {pct(first, 99):>8.1f}")
    print(f"  {'last tenth':<28} {pct(last, 50):>8.1f} {pct(last, 99):>8.1f}")
    print("\nDynamoDB request time straight to moto (median of 50, ms):")
    for op in result.dynamodb_start_ms:
        print(f"  {op:<10} start {result.dynamodb_start_ms[op]:6.2f}   end {result.dynamodb_end_ms[op]:6.2f}")
    start, end = result.start_stats, result.end_stats
    print("\nMemory of the stack's process tree (after the warm-up -> at the end):")
    for measure in ("rss_mb", "pss_mb", "processes"):
        print(f"  {measure:<10} {start['memory'][measure]:>9} -> {end['memory'][measure]:>9}")
    print("Data held by moto (after the warm-up -> at the end):")
    for measure in start["data"]:
        print(f"  {measure:<16} {start['data'][measure]:>12,} -> {end['data'][measure]:>12,}")
    print(f"Environments at the end: {json.dumps(end['environments'])}")
    started, started_mb = result.started_environments
    print(
        f"\nGrowth of the processes there after the warm-up: PSS {result.pss_growth_mb:.1f} MB "
        f"(RSS {result.rss_growth_mb:.1f} MB), of which repeating in both halves {result.steady_growth_mb:.1f} MB; "
        f"data written {result.data_written_mb:.1f} MB; repeating growth beyond the data "
        f"{result.growth_beyond_data_mb:.1f} MB.\nEnvironments started during the run (concurrency reached a new "
        f"high; capped per function): {started}, {started_mb:.0f} MB PSS"
    )
    grown = ", ".join(
        f"{role.removeprefix('riveredge-local-')} {mb:+.0f}" for role, mb in sorted(result.growth_by_role().items())
    )
    print(f"PSS growth by role (MB): {grown}")
    return [
        (
            "soak: repeating memory growth beyond the data (MB)",
            f"{result.growth_beyond_data_mb:.1f}",
            f"<= {MEMORY_TARGET_MB:.0f}",
            result.growth_beyond_data_mb <= MEMORY_TARGET_MB,
        ),
        (
            "soak: p99 at the end / at the start",
            f"{result.p99_ratio:.2f}x",
            f"<= {LATENCY_RATIO_TARGET:.1f}x",
            result.p99_ratio <= LATENCY_RATIO_TARGET,
        ),
        ("soak: unexpected answers", str(sum(result.errors.values())), "0", not result.errors),
    ]


def measure(total: int = 10_000, clients: int = 8) -> SoakResult:
    """Start `python -m local_stack` on free ports, soak it, stop it."""
    from local_stack.launcher import StackProcess

    with tempfile.TemporaryDirectory() as folder:
        stack = StackProcess(Path(folder) / "stack.log", PASSWORD, {"LAMBDA_LOG_LEVEL": "WARNING"}).start()
        try:
            return run(stack.url, stack.moto_url, PASSWORD, total, clients)
        finally:
            stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    checks = report(measure(args.requests, args.clients))
    for name, value, target, met in checks:
        print(f"{name:<44} {value:>8} {target:>8}  {'PASS' if met else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
