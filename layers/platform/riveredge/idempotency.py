"""``Idempotency-Key`` for POSTs that create or send, on Powertools idempotency.

The same key with the same body answers the first result again; the same key
with another body is a 422; a second request while the first still runs is a
409. Records live in the single table under the caller's scope (so the tenant
guard covers them) and expire through the table's TTL after 24 hours.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from riveredge import aws, keys
from riveredge.errors import BadRequestError, ConflictError, IdempotencyKeyReusedError
from riveredge.scope import require_scope
from riveredge.settings import get_settings

MAX_KEY_LENGTH = 128


@lru_cache(maxsize=1)
def _runner() -> tuple[Callable[..., dict[str, Any]], Any]:
    """Powertools idempotency, set up on the first request that carries a key (not at cold start)."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    class ScopedPersistenceLayer(DynamoDBPersistenceLayer):
        """Powertools' DynamoDB layer, keyed inside the current tenancy scope."""

        def _get_key(self, idempotency_key: str) -> dict[str, Any]:
            key = keys.idempotency(require_scope(), idempotency_key)
            return {"pk": {"S": key.pk}, "sk": {"S": key.sk}}

    store = ScopedPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr="pk",
        sort_key_attr="sk",
        expiry_attr="ttl",
        status_attr="idempotency_status",
        data_attr="idempotency_data",
        validation_key_attr="idempotency_validation",
        boto3_client=aws.dynamodb(),
    )
    config = IdempotencyConfig(
        event_key_jmespath="[operation, principal, key]",
        payload_validation_jmespath="payload",
        expires_after_seconds=24 * 3600,
        use_local_cache=False,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=store, config=config)
    def run(request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()

    return run, config


def once(
    key: str | None,
    *,
    operation: str,
    principal: str,
    payload: Any,
    action: Callable[[], dict[str, Any]],
    lambda_context: Any = None,
) -> dict[str, Any]:
    """Run `action` once per `key`; its JSON-able result is stored and replayed."""
    if key is None:
        return action()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequestError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters")
    request = {"operation": operation, "principal": principal, "key": key, "payload": payload}
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    run, config = _runner()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)  # an in-progress record expires with the invocation
    try:
        return run(request=request, action=action)
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReusedError("this Idempotency-Key was used with a different body") from error
    except IdempotencyAlreadyInProgressError as error:
        raise ConflictError("a request with this Idempotency-Key is still in progress") from error
