"""Shared test set-up: the environment every module reads at import time, set before any import of ours."""

from local_stack.stack import prepare_environment

prepare_environment()
