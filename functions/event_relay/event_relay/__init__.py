"""The event relay: puts the outbox events of the table's stream on the application's bus."""
