"""Lambda entry point of the dictionaries function (dictionaries and system parameters)."""

from riveredge.http import api_function

from dictionaries.routes import dictionaries_router, parameters_router

app, lambda_handler, openapi = api_function(
    "RiverEdge dictionaries and parameters", dictionaries_router, parameters_router
)
