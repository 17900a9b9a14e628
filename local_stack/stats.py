"""What the running stack holds: its processes' memory, the data written into moto, its environments.

Served at `GET /_local/stats` (the soak benchmark reads it at the start and at the end of a run). Memory is
the stack's whole process tree (this process with the moto server and the gateway, the fork server and every
function's environments): resident (RSS) and proportional (PSS: a page shared by n processes counts 1/n, so
the copy-on-write pages of forked environments are not counted once per process). Data is what DynamoDB
would bill as item size, plus S3 object bytes and sent mail.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from local_stack import serialise


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        found.setdefault(parent, []).append(int(entry.name))
    return found


def process_tree(root: int | None = None) -> list[int]:
    """`root` (this process) and all its descendants."""
    children, tree, pending = _children(), [], [root or os.getpid()]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def _kb(path: Path, field: str) -> int:
    """A `field: N kB` line of a /proc file (0 when the process has gone meanwhile)."""
    try:
        text = path.read_text()
    except OSError:
        return 0
    line = next((x for x in text.splitlines() if x.startswith(field + ":")), None)
    return int(line.split()[1]) if line else 0


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def memory(root: int | None = None, named: dict[int, str] | None = None) -> dict[str, Any]:
    """Resident and proportional memory (MB) and CPU time (s) of the process tree; `named` gives processes their
    role."""
    pids = process_tree(root)
    own = root or os.getpid()
    by_role: dict[str, dict[str, float]] = {}
    by_process: dict[str, dict[str, Any]] = {}
    rss_total = pss_total = 0
    for pid in pids:
        rss, pss = _kb(Path(f"/proc/{pid}/status"), "VmRSS"), _kb(Path(f"/proc/{pid}/smaps_rollup"), "Pss")
        rss_total, pss_total = rss_total + rss, pss_total + pss
        role = "stack" if pid == own else (named or {}).get(pid, "other")
        by_process[str(pid)] = {
            "role": role,
            "rss_mb": round(rss / 1024, 1),
            "pss_mb": round(pss / 1024, 1),
            "cpu_s": _cpu_seconds(pid),
        }
        entry = by_role.setdefault(role, {"processes": 0, "rss_mb": 0.0, "pss_mb": 0.0, "cpu_s": 0.0})
        entry["processes"] += 1
        entry["cpu_s"] = round(entry["cpu_s"] + _cpu_seconds(pid), 2)
        entry["rss_mb"] = round(entry["rss_mb"] + rss / 1024, 1)
        entry["pss_mb"] = round(entry["pss_mb"] + pss / 1024, 1)
    return {
        "processes": len(pids),
        "rss_mb": round(rss_total / 1024, 1),
        "pss_mb": round(pss_total / 1024, 1),
        "by_role": by_role,
        "by_process": by_process,
    }


def _mail_bytes(message: Any) -> int:
    """Size of one mail of moto's outbox: a raw MIME message (what the mailer sends) or a simple one."""
    raw = getattr(message, "raw_data", None)
    if raw is not None:
        return len(str(raw))
    return len(str(getattr(message, "body", "") or "")) + len(str(getattr(message, "subject", "") or ""))


def data(account: str, region: str) -> dict[str, int]:
    """How much the stack stores: DynamoDB items and their size, S3 objects and bytes, sent mail, executions."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.ses.models import ses_backends
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends  # the one that executes

    with serialise.locked():
        tables = list(dynamodb_backends[account][region].tables.values())
        items = [item for table in tables for item in table.all_items()]
        objects = [
            key
            for bucket in s3_backends[account]["global"].buckets.values()
            for key in bucket.keys.values()
            if hasattr(key, "size")
        ]
        mail = ses_backends[account][region].sent_messages
        machines = stepfunctions_parser_backends[account][region].state_machines
        executions = sum(len(m.executions) for m in machines)
        return {
            "dynamodb_items": len(items),
            "dynamodb_bytes": sum(item.size() for item in items),
            "s3_objects": len(objects),
            "s3_bytes": sum(int(key.size) for key in objects),
            "mail_messages": len(mail),
            "mail_bytes": sum(_mail_bytes(m) for m in mail),
            "executions": executions,
        }
