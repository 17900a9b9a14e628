"""Mail templates: their types (metadata) and global variables."""
