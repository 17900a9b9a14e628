"""Logger and Metrics, shared by every function.

The tenant is a log key and EMF metadata, never a metric dimension (its
cardinality is unbounded). Tracing is Lambda's active tracing, without the
X-Ray SDK in the code (docs/decisions/0005-cold-start.md).
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

# Requests that add no metric are normal (a read); Powertools would warn on each one.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
metrics = Metrics(namespace="RiverEdge")


def bind_request(*, tenant_id: str | None, user_id: str | None, request_id: str | None) -> None:
    """Attach who and what to every log line and metric of this request."""
    logger.append_keys(tenant_id=tenant_id, user_id=user_id, request_id=request_id)
    if tenant_id:
        metrics.add_metadata(key="tenant_id", value=tenant_id)


def correlation_id() -> str | None:
    """The id that ties this work to the request that caused it (API Gateway's request id, carried in events)."""
    value = logger.get_correlation_id()
    return str(value) if value else None


def bind_event(*, tenant_id: str, event_id: str, correlation_id: str | None, source: str) -> None:
    """Attach the event being handled (and the request that caused it) to every log line."""
    logger.append_keys(tenant_id=tenant_id, event_id=event_id, event_source=source)
    logger.set_correlation_id(correlation_id)
    metrics.add_metadata(key="tenant_id", value=tenant_id)
