"""Lambda entry point of the integrations function."""

from riveredge.http import api_function

from integrations.routes import allow_list_router, router

app, lambda_handler, openapi = api_function("RiverEdge integrations", router, allow_list_router)
