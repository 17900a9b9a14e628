"""Lambda entry point of the tenants function."""

from riveredge.http import api_function

from tenants.routes import router

app, lambda_handler, openapi = api_function("RiverEdge tenants", router)
