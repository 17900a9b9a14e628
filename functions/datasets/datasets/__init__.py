"""Datasets: queries on a tenant's data sources, their previews (cached per parameters) and export jobs."""
