"""Lambda entry point of the organisation function."""

from riveredge.http import api_function

from organisation.routes import departments, positions

app, lambda_handler, openapi = api_function("RiverEdge organisation", departments, positions)
