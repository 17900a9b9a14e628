"""Accounts of a tenant: create or invite, list in the data scope, update, delete, batch, reset, activate."""
