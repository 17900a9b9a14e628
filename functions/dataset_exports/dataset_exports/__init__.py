"""Dataset export jobs: a dataset run with its parameters, written to xlsx or CSV in the exports bucket."""
