"""Dictionaries and system parameters: the configuration every form and module reads."""
