"""The API registry: described HTTP interfaces, test calls through the SSRF guard, an OpenAPI 3.1 export."""
