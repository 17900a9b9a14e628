"""Lambda entry point of the datasets function."""

from riveredge.http import api_function

from datasets.routes import router

app, lambda_handler, openapi = api_function("RiverEdge datasets", router)
