"""Opaque, signed pagination cursors.

A cursor carries DynamoDB's LastEvaluatedKey, signed with HMAC-SHA256 over the
key, the scope prefix and a fingerprint of the query (path and filters). A
cursor that was forged, altered, minted for another tenant or for another
query fails its check and the request is a 400, never a read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from riveredge import aws
from riveredge.errors import BadRequestError
from riveredge.scope import Scope
from riveredge.settings import get_settings


@lru_cache(maxsize=1)
def _secret() -> bytes:
    arn = get_settings().cursor_secret_arn
    value = aws.secretsmanager().get_secret_value(SecretId=arn)["SecretString"]
    return value.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fingerprint(query: dict[str, Any]) -> str:
    """A stable digest of a list request's path and filters (not limit or cursor)."""
    canonical = json.dumps(query, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _mac(scope: Scope, query: str, payload: bytes) -> bytes:
    message = b"\x00".join([scope.prefix.encode(), query.encode(), payload])
    return hmac.new(_secret(), message, hashlib.sha256).digest()


def encode(scope: Scope, query: str, last_key: dict[str, Any] | None) -> str | None:
    """The next_cursor for a page that stopped at `last_key` (None on the last page)."""
    if not last_key:
        return None
    payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(scope, query, payload))}"


def decode(scope: Scope, query: str, cursor: str | None) -> dict[str, Any] | None:
    """The ExclusiveStartKey a cursor stands for; BadRequestError if it fails its check."""
    if not cursor:
        return None
    try:
        payload_text, signature_text = cursor.split(".")
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except ValueError as error:
        raise BadRequestError("cursor is not valid") from error
    if not hmac.compare_digest(signature, _mac(scope, query, payload)):
        raise BadRequestError("cursor is not valid")
    key = json.loads(payload)
    if not isinstance(key, dict):
        raise BadRequestError("cursor is not valid")
    return key
