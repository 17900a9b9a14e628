"""Custom-field definitions and the schemas dynamic forms are built from."""
