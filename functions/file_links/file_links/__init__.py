"""File links: preview links (our renderings or kkFileView) and share links of files."""
