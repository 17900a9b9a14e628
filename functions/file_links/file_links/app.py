"""Lambda entry point of the file-links function."""

from riveredge.http import api_function

from file_links.routes import public_router, router

app, lambda_handler, openapi = api_function("RiverEdge file links", router, public_router)
