"""Lambda entry point of the mail-logs function."""

from riveredge.http import api_function

from mail_logs.routes import router

app, lambda_handler, openapi = api_function("RiverEdge mail logs", router)
