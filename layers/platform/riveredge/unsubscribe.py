"""Unsubscribe links of non-transactional mail: a signed token naming a tenant, an address and a category.

The mailer puts ``List-Unsubscribe: <link>`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
(RFC 8058) on every message of an unsubscribable category, one token per recipient. The link is the public
route ``/api/public/mail/unsubscribe?token=...`` (functions/mail_logs): a POST (what a mail client's
one-click unsubscribe sends) records a suppression of that category for that address in that tenant, which
the mailer then respects; a GET only says what the link stands for (mail scanners follow links).

A token is ``<payload>.<mac>``: the payload is the compact JSON ``[tenant id, address, category]`` in
base64url, the mac 128 bits of HMAC-SHA256 under a key derived from the platform's signing secret (the
cursor secret, with a label of its own, so a cursor's mac never checks as a token's). Tokens do not expire:
an old mail's link keeps working, and using it twice changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from riveredge import aws
from riveredge.errors import BadRequestError, FieldProblem
from riveredge.settings import get_settings

PATH = "/api/public/mail/unsubscribe"
LABEL = b"riveredge mail unsubscribe v1"
MAC_BYTES = 16


@dataclass(frozen=True)
class Subscription:
    """What an unsubscribe token stands for."""

    tenant_id: str
    email: str
    category: str


@lru_cache(maxsize=1)
def _key() -> bytes:
    arn = get_settings().cursor_secret_arn
    secret = str(aws.secretsmanager().get_secret_value(SecretId=arn)["SecretString"]).encode()
    return hmac.new(secret, LABEL, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(payload: bytes) -> bytes:
    return hmac.new(_key(), payload, hashlib.sha256).digest()[:MAC_BYTES]


def token(tenant_id: str, email: str, category: str) -> str:
    """The token of `email`'s subscription to `category` mail of the tenant."""
    payload = json.dumps([tenant_id, email.lower(), category], separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(_mac(payload))}"


def read(value: str | None) -> Subscription:
    """What a token stands for; BadRequestError naming ``token`` when it is missing, altered or forged."""
    problem = BadRequestError("the unsubscribe link is not valid", errors=[FieldProblem("token", "not valid")])
    if not value or len(value) > 1024 or value.count(".") != 1:
        raise problem
    encoded, mac = value.split(".")
    try:
        payload, given = _unb64(encoded), _unb64(mac)
    except ValueError as error:
        raise problem from error
    if not hmac.compare_digest(given, _mac(payload)):
        raise problem
    try:
        tenant_id, email, category = json.loads(payload)
    except (ValueError, TypeError) as error:
        raise problem from error
    return Subscription(str(tenant_id), str(email), str(category))


def link(tenant_id: str, email: str, category: str) -> str:
    """The one-click unsubscribe URL of `email` for `category` mail of the tenant."""
    settings = get_settings()
    base = (settings.api_base_url or settings.app_base_url).rstrip("/")
    return f"{base}{PATH}?{urlencode({'token': token(tenant_id, email, category)})}"
