"""Lambda entry point of the sessions function."""

from riveredge.http import api_function

from sessions.routes import router

app, lambda_handler, openapi = api_function("RiverEdge sessions", router)
