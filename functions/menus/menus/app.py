"""Lambda entry point of the menus function."""

from riveredge.http import api_function

from menus.routes import router

app, lambda_handler, openapi = api_function("RiverEdge menus", router)
