"""Languages and translation bundles, and the resolved bundle every front end loads."""
