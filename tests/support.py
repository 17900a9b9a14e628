"""Helpers the integration and e2e tests share."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local_stack import calls

PASSWORD = "Correct-horse-42"
# What the functions get under test on top of the template: argon2id at its cheapest (refused outside STAGE=local).
TEST_FUNCTION_ENVIRONMENT = {"PASSWORD_HASH_PROFILE": "test"}


@contextmanager
def dynamodb_calls(caller: str | None = calls.EVERYONE) -> Iterator[Counter[str]]:
    """Count the DynamoDB requests the stack's moto answers inside the block, by operation name.

    Every function's and the test's own; only one function's (its logical id) when `caller` is given.
    """
    counts: Counter[str] = Counter()
    with calls.recording() as recorded:
        yield counts
    counts.update(recorded.operations("dynamodb", caller))


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def problem_without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}
