"""The yardstick of cold imports: a minimal Powertools REST handler with one DynamoDB client.

Every function's cold import is reported as a ratio to this module's, measured in
the same run and the same environment (benchmarks/cold_imports.py).
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()
dynamodb = boto3.client("dynamodb")  # at module level, as a real handler would


@app.get("/ping")
def ping() -> dict[str, str]:
    return {"status": "ok"}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
