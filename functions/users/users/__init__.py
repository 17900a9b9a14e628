"""Accounts of a tenant (read for now; issue 3 adds the rest of the account lifecycle)."""
