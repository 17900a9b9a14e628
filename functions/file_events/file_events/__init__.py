"""The files bucket's ObjectCreated consumer: what an upload really is, the quota settled, ready or quarantined."""
