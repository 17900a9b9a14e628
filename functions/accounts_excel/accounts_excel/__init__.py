"""Accounts as Excel workbooks: the import template, imports (checked row by row, large ones as jobs), exports."""
