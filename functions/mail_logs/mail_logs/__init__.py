"""The mail log: the organisation's delivery records, and the public unsubscribe link of its mail."""
