"""Lambda entry point of the accounts-excel function: API requests, and the import jobs their events start."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from riveredge.consumers import Delivery, bus
from riveredge.http import api_function

from accounts_excel.routes import router

app, api_handler, openapi = api_function("RiverEdge accounts_excel", router)
jobs = bus.Consumer()


class ImportQueued(BaseModel):
    job_id: str = Field(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")


@jobs.on("users.import_queued", ImportQueued)
def run_import(event: ImportQueued, delivery: Delivery) -> dict[str, Any]:
    from accounts_excel import service

    return {"job_id": event.job_id, "status": service.run_job(delivery.tenant_id, event.job_id)}


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    """An API Gateway request, or the bus event of a queued import job."""
    if "detail-type" in event:
        return jobs(event, context)
    return api_handler(event, context)
