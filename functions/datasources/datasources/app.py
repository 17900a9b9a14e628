"""Lambda entry point of the datasources function."""

from riveredge.http import api_function

from datasources.routes import router

app, lambda_handler, openapi = api_function("RiverEdge data sources", router)
