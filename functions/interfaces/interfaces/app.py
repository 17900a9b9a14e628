"""Lambda entry point of the interfaces function (the API registry)."""

from riveredge.http import api_function

from interfaces.routes import router

app, lambda_handler, openapi = api_function("RiverEdge API registry", router)
