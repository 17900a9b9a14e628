"""Lambda entry point of the access function."""

from riveredge.http import api_function

from access.routes import router

app, lambda_handler, openapi = api_function("RiverEdge access", router)
