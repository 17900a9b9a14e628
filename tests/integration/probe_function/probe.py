"""A handler that reports on its own execution environment, for the local stack's environment tests.

Module state survives between the events of one environment (as in Lambda) and is never shared with
another environment: `served` counts what this environment has served.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

served = {"events": 0}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    served["events"] += 1
    if event.get("sleep"):
        time.sleep(float(event["sleep"]))
    if event.get("exit"):
        sys.exit(int(event["exit"]))
    if event.get("raise"):
        raise LookupError(str(event["raise"]))
    if event.get("unserialisable"):
        return {"at": object()}  # type: ignore[dict-item]
    return {
        "pid": os.getpid(),
        "events": served["events"],
        "service": os.environ.get("POWERTOOLS_SERVICE_NAME"),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
    }
