"""Lambda entry point of the me function."""

from riveredge.http import api_function

from me.routes import router

app, lambda_handler, openapi = api_function("RiverEdge me", router)
