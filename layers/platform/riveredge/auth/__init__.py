"""Tokens and principals: who is calling, and in which scope."""
