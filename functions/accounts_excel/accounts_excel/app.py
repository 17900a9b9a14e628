"""Lambda entry point of the accounts-excel function: API requests, and the import jobs it invokes itself with."""

from __future__ import annotations

from typing import Any

from riveredge.http import api_function

from accounts_excel.routes import router

app, api_handler, openapi = api_function("RiverEdge accounts_excel", router)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An API Gateway request, or ``{"job_id", "tenant_id"}`` from this function's asynchronous invocation."""
    if "job_id" in event and "httpMethod" not in event and "requestContext" not in event:
        from accounts_excel import service

        status = service.run_job(str(event.get("tenant_id", "")), str(event["job_id"]))
        return {"job_id": str(event["job_id"]), "status": status}
    return api_handler(event, context)
