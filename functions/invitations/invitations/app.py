"""Lambda entry point of the invitations function."""

from riveredge.http import api_function

from invitations.routes import router

app, lambda_handler, openapi = api_function("RiverEdge invitations", router)
