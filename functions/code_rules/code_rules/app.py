"""Lambda entry point of the code rules function."""

from riveredge.http import api_function

from code_rules.routes import router

app, lambda_handler, openapi = api_function("RiverEdge code rules", router)
