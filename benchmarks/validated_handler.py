"""A second reference, for information: the minimal handler with Powertools validation and one pydantic model.

REST functions validate bodies at the edge with pydantic through Powertools (the
architecture's rule). This module shows what that alone costs at import, so the
report can tell our own weight from the price of validation (docs/decisions/0005-cold-start.md).
"""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel, ConfigDict

app = APIGatewayRestResolver(enable_validation=True)
dynamodb = boto3.client("dynamodb")


class PingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str


@app.post("/ping")
def ping(body: PingRequest) -> dict[str, str]:
    return {"echo": body.message}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
