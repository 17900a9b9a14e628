"""Data sources: the databases and HTTP APIs a tenant's datasets read."""
