"""Lambda entry point of the app centre function."""

from riveredge.http import api_function

from app_centre.routes import router

app, lambda_handler, openapi = api_function("RiverEdge app centre", router)
