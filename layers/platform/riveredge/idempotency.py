"""Exactly-once effects on Powertools idempotency: ``Idempotency-Key`` requests, and events by their own id.

Requests (:func:`once`): the same key with the same body answers the first
result again; the same key with another body is a 422; a second request while
the first still runs is a 409. Records expire after 24 hours.

Events (:func:`once_per_event`): an event delivered again (every AWS source
delivers at least once) answers its first result without running again; one
still running elsewhere raises :class:`EventInProgress`. Records expire after
7 days (longer than any queue keeps a message).

Records live in the single table under the current scope (so the tenant guard
covers them) and expire through the table's TTL; each is keyed by the Lambda
function as well, so two functions consuming one event each run it once.
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


EVENT_RECORD_DAYS = 7


class EventInProgress(Exception):
    """The same event is being handled by another invocation right now: try again later."""


def _store() -> Any:
    """Powertools' DynamoDB persistence layer, keyed inside the current tenancy scope."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    class ScopedPersistenceLayer(DynamoDBPersistenceLayer):
        def _get_key(self, idempotency_key: str) -> dict[str, Any]:
            key = keys.idempotency(require_scope(), idempotency_key)
            return {"pk": {"S": key.pk}, "sk": {"S": key.sk}}

    return ScopedPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr="pk",
        sort_key_attr="sk",
        expiry_attr="ttl",
        status_attr="idempotency_status",
        data_attr="idempotency_data",
        validation_key_attr="idempotency_validation",
        boto3_client=aws.dynamodb(),
    )


@lru_cache(maxsize=1)
def _runner() -> tuple[Callable[..., dict[str, Any]], Any]:
    """Powertools idempotency for requests, set up on the first request that carries a key (not at cold start)."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="[operation, principal, key]",
        payload_validation_jmespath="payload",
        expires_after_seconds=24 * 3600,
        use_local_cache=False,
    )

    @idempotent_function(data_keyword_argument="request", persistence_store=_store(), config=config)
    def run(request: dict[str, Any], action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return action()

    return run, config


@lru_cache(maxsize=1)
def _event_runner() -> tuple[Callable[..., Any], Any]:
    """Powertools idempotency for events, keyed by the event's own id, set up on the first event."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath="event_id",
        expires_after_seconds=EVENT_RECORD_DAYS * 24 * 3600,
        use_local_cache=False,
    )

    @idempotent_function(data_keyword_argument="event", persistence_store=_store(), config=config)
    def consume(event: dict[str, Any], action: Callable[[], Any]) -> Any:
        return action()

    return consume, config


def once_per_event(event_id: str, action: Callable[[], Any], *, lambda_context: Any = None) -> Any:
    """Run `action` once for the event `event_id` in the current scope; a redelivery answers its stored result.

    `action` must answer something JSON can hold (or None). A failure stores nothing, so the next delivery runs it.
    """
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    consume, config = _event_runner()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    try:
        return consume(event={"event_id": event_id}, action=action)
    except IdempotencyAlreadyInProgressError as error:
        raise EventInProgress(f"event {event_id} is being handled by another invocation") from error


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
