"""Lambda entry point of the auth function."""

from riveredge.http import api_function

from auth.routes import router

app, lambda_handler, openapi = api_function("RiverEdge auth", router)
