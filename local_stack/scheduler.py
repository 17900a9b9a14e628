"""EventBridge Scheduler, locally: schedules fire from a local clock, or on demand.

Schedules are read from moto's Scheduler (so the API that creates them in AWS
creates them here too). Expressions: ``rate(n unit)``, ``cron(...)`` (AWS's six
fields, parsed by croniter) and ``at(yyyy-mm-ddThh:mm:ss)``.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from croniter import croniter

from local_stack.lambdas import FunctionRegistry

log = logging.getLogger("local_stack.scheduler")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def next_fire(expression: str, after: datetime) -> datetime | None:
    """When a schedule with `expression` fires next after `after` (None: never again)."""
    expression = expression.strip()
    rate = _RATE.match(expression)
    if rate:
        unit = rate.group(2).rstrip("s")
        return after + timedelta(seconds=int(rate.group(1)) * _UNITS[unit])
    if expression.startswith("cron(") and expression.endswith(")"):
        fields = expression[5:-1].split()
        if len(fields) != 6:
            raise ValueError(f"AWS cron needs six fields: {expression}")
        minute, hour, dom, month, dow, _year = fields
        spec = " ".join(f.replace("?", "*") for f in (minute, hour, dom, month, dow))
        return croniter(spec, after).get_next(datetime)  # type: ignore[no-any-return]
    if expression.startswith("at(") and expression.endswith(")"):
        moment = datetime.fromisoformat(expression[3:-1]).replace(tzinfo=UTC)
        return moment if moment > after else None
    raise ValueError(f"not a schedule expression: {expression}")


def _with_context(text: str, schedule: dict[str, Any], due: datetime) -> str:
    """Scheduler's context attributes in a target's input, as Scheduler fills them in."""
    values = {
        "<aws.scheduler.schedule-arn>": str(schedule.get("Arn", schedule.get("Name", ""))),
        "<aws.scheduler.scheduled-time>": due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "<aws.scheduler.execution-id>": str(uuid.uuid4()),
        "<aws.scheduler.attempt-number>": "1",
    }
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    return text


class LocalScheduler:
    """Fires due schedules every `tick` seconds, and any schedule when asked."""

    def __init__(self, registry: FunctionRegistry, tick: float = 5.0) -> None:
        self.registry = registry
        self.tick = tick
        self._next: dict[str, datetime | None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fired: list[dict[str, Any]] = []

    def _client(self) -> Any:
        return boto3.client("scheduler")

    def schedules(self) -> list[dict[str, Any]]:
        client = self._client()
        found = []
        for summary in client.list_schedules().get("Schedules", []):
            detail = client.get_schedule(Name=summary["Name"], GroupName=summary.get("GroupName", "default"))
            found.append(detail)
        return found

    def fire(self, name: str, group: str = "default") -> dict[str, Any]:
        """Run a schedule's target now; answers what was fired."""
        schedule = self._client().get_schedule(Name=name, GroupName=group)
        return self._fire(schedule)

    def _fire(self, schedule: dict[str, Any], due: datetime | None = None) -> dict[str, Any]:
        target = schedule["Target"]
        payload = json.loads(_with_context(target.get("Input") or "{}", schedule, due or datetime.now(UTC)))
        service = target["Arn"].split(":")[2]
        record = {"name": schedule["Name"], "target": target["Arn"], "at": datetime.now(UTC).isoformat()}
        if service == "lambda":
            record["result"] = self.registry.get(target["Arn"]).invoke(payload)
        elif service == "states":
            execution = boto3.client("stepfunctions").start_execution(
                stateMachineArn=target["Arn"], name=f"schedule-{uuid.uuid4()}", input=json.dumps(payload)
            )
            record["execution_arn"] = execution["executionArn"]
        else:
            raise ValueError(f"local scheduler cannot deliver to {target['Arn']}")
        self.fired.append(record)
        return record

    def run_due(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Fire every enabled schedule that is due at `now`."""
        now = now or datetime.now(UTC)
        fired = []
        for schedule in self.schedules():
            key = f"{schedule.get('GroupName', 'default')}/{schedule['Name']}"
            if schedule.get("State", "ENABLED") != "ENABLED":
                continue
            if key not in self._next:
                self._next[key] = next_fire(schedule["ScheduleExpression"], now - timedelta(seconds=self.tick))
            due = self._next[key]
            if due is not None and due <= now:
                try:
                    fired.append(self._fire(schedule, due))
                except Exception:
                    log.exception("schedule %s failed", key)
                self._next[key] = next_fire(schedule["ScheduleExpression"], now)
        return fired

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.tick):
                try:
                    self.run_due()
                except Exception:
                    log.exception("scheduler tick failed")

        self._thread = threading.Thread(target=loop, name="local-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
