"""File previews: thumbnails of images and the first page of PDFs, made when a file is stored."""
