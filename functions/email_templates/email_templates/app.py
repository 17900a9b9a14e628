"""Lambda entry point of the email-templates function."""

from riveredge.http import api_function

from email_templates.routes import router

app, lambda_handler, openapi = api_function("RiverEdge email templates", router)
