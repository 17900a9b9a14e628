"""Lambda entry point of the site-settings function."""

from riveredge.http import api_function

from site_settings.routes import public_router, router

app, lambda_handler, openapi = api_function("RiverEdge site settings", router, public_router)
