"""Lambda entry point of the files function."""

from riveredge.http import api_function

from files.routes import folders, router

app, lambda_handler, openapi = api_function("RiverEdge files", router, folders)
