"""Lambda entry point of the custom-fields function."""

from riveredge.http import api_function

from custom_fields.routes import router

app, lambda_handler, openapi = api_function("RiverEdge custom fields", router)
