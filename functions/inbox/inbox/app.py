"""Lambda entry point of the inbox function (my messages)."""

from riveredge.http import api_function

from inbox.routes import router

app, lambda_handler, openapi = api_function("RiverEdge my messages", router)
