"""Lambda entry point of the users function."""

from riveredge.http import api_function

from users.routes import router

app, lambda_handler, openapi = api_function("RiverEdge users", router)
