"""Lambda entry point of the messages function."""

from riveredge.http import api_function

from messages.routes import router

app, lambda_handler, openapi = api_function("RiverEdge messages", router)
