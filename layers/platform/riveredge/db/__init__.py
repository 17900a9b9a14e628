"""Single-table persistence: the PynamoDB base model and the shared attributes."""

from riveredge.db.base import Gsi1, Gsi2, TableModel, condition_failed, transaction

__all__ = ["Gsi1", "Gsi2", "TableModel", "condition_failed", "transaction"]
