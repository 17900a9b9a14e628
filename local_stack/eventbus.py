"""EventBridge rule targets that moto does not deliver: Lambda functions and state machines.

moto's `Rule.send_to_targets` handles logs, SQS and other buses, and raises
for anything else. The stack wraps it: Lambda targets run the real handler
in-process, Step Functions targets start an execution; the rest go to moto.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from local_stack.lambdas import FunctionRegistry

_registry: FunctionRegistry | None = None
_inflight = 0
_inflight_lock = threading.Lock()


def idle() -> bool:
    """Whether no rule target is being delivered right now."""
    return _inflight == 0


def _event_for(target: dict[str, Any], event: dict[str, Any]) -> Any:
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        value: Any = event
        for part in str(target["InputPath"]).lstrip("$.").split("."):
            value = value.get(part) if part else value
        return value
    return event


def install(registry: FunctionRegistry) -> None:
    global _registry
    _registry = registry
    from moto.events.models import Rule

    if getattr(Rule.send_to_targets, "_riveredge", False):
        return
    original = Rule.send_to_targets

    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        if not self.event_pattern.matches_event(original_event):
            return
        ours = [t for t in self.targets if t["Arn"].split(":")[2] in {"lambda", "states"}]
        rest = [t for t in self.targets if t not in ours]
        for target in ours:
            # EventBridge delivers asynchronously: the publisher never waits for a consumer.
            _started()
            threading.Thread(target=_deliver_quietly, args=(target, dict(original_event)), daemon=True).start()
        if rest:
            saved = self.targets
            self.targets = rest
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved

    send_to_targets._riveredge = True  # type: ignore[attr-defined]
    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def _started() -> None:
    global _inflight
    with _inflight_lock:
        _inflight += 1


def _deliver_quietly(target: dict[str, Any], event: dict[str, Any]) -> None:
    global _inflight
    import logging

    try:
        _deliver(target, event)
    except Exception:
        logging.getLogger("local_stack").exception("event target %s failed", target.get("Arn"))
    finally:
        with _inflight_lock:
            _inflight -= 1


def _deliver(target: dict[str, Any], event: dict[str, Any]) -> None:
    payload = _event_for(target, event)
    service = target["Arn"].split(":")[2]
    if service == "lambda":
        assert _registry is not None
        _registry.get(target["Arn"]).invoke(payload)
    else:
        import boto3

        boto3.client("stepfunctions").start_execution(
            stateMachineArn=target["Arn"], name=f"event-{uuid.uuid4()}", input=json.dumps(payload)
        )
