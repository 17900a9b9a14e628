"""My messages: the caller's own inbox (list, unread count, read, delete)."""
