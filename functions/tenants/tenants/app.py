"""Lambda entry point of the tenants function."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from riveredge.http import create_app, openapi_spec
from riveredge.observability import logger, metrics, tracer

from tenants.routes import router

TITLE = "RiverEdge tenants"
app = create_app(TITLE, router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


def openapi() -> dict[str, Any]:
    return openapi_spec(app, TITLE)
