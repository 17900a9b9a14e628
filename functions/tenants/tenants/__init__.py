"""Tenants, for platform operators: create (with onboarding), list, read, suspend, resume."""
