"""The file manager: uploads (presigned POST and multipart), files, folders, storage usage and file settings."""
