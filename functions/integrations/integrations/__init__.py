"""Integrations: OAuth 2, API and webhook configs with write-only secrets, tested through the SSRF guard."""
