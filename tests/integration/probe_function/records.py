"""A batch consumer for the local stack's event-source tests: notes each record it gets in a file.

A record whose body (SQS) or item (streams) says ``bad`` is reported as failed, every time.
"""

from __future__ import annotations

import json
import os
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    with open(os.environ["PROBE_LOG"], "a", encoding="utf-8") as log:
        for record in event["Records"]:
            if "messageId" in record:
                name, ident = json.loads(record["body"])["name"], record["messageId"]
            else:
                name, ident = record["dynamodb"]["NewImage"]["sk"]["S"], record["dynamodb"]["SequenceNumber"]
            log.write(name + "\n")
            if name.startswith("bad"):
                failures.append({"itemIdentifier": ident})
    return {"batchItemFailures": failures}
