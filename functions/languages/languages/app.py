"""Lambda entry point of the languages function."""

from riveredge.http import api_function

from languages.routes import i18n_router, router

app, lambda_handler, openapi = api_function("RiverEdge languages", router, i18n_router)
