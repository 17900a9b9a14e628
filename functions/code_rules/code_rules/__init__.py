"""Code rules: numbering patterns for documents, and the codes they issue."""
