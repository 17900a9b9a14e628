"""Access tokens: ES256 JWTs signed by a KMS key that never leaves KMS.

Issuing asks KMS to sign (pyjwt builds the token; a KMS-backed algorithm signs
it). Verifying is local: the public key is fetched from KMS once per container
and per ``kid``. The algorithm is pinned to ES256, and ``exp``, ``iat``,
``iss``, ``aud``, ``sub``, ``jti`` are required, so ``alg: none``, HS256 signed
with the public key, an unknown ``kid`` and a tampered payload all fail.
"""

from __future__ import annotations

import json
import secrets
import time
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from jwt.algorithms import ECAlgorithm

from riveredge import aws
from riveredge.errors import UnauthorizedError
from riveredge.settings import get_settings

ALGORITHM = "ES256"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "jti", "ten", "sid"]


class _KmsEs256(ECAlgorithm):
    """ES256 whose private half is a KMS key: `key` is the KMS key id."""

    def __init__(self) -> None:
        super().__init__(ECAlgorithm.SHA256)

    def prepare_key(self, key: Any) -> Any:
        return key

    def sign(self, msg: bytes, key: Any) -> bytes:
        der = aws.kms().sign(KeyId=key, Message=msg, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@lru_cache(maxsize=1)
def _signer() -> jwt.PyJWS:
    jws = jwt.PyJWS(algorithms=[])
    jws.register_algorithm(ALGORITHM, _KmsEs256())
    return jws


def signing_kid() -> str:
    return get_settings().signing_key_id


def trusted_kids() -> tuple[str, ...]:
    """Key ids whose tokens are accepted: the signing key (and, after a rotation, its predecessors)."""
    return (signing_kid(),)


@lru_cache(maxsize=8)
def public_key(kid: str) -> EllipticCurvePublicKey:
    der = aws.kms().get_public_key(KeyId=kid)["PublicKey"]
    key = load_der_public_key(der)
    if not isinstance(key, EllipticCurvePublicKey):
        raise TypeError("signing key is not an EC key")
    return key


def issue_access_token(*, tenant_id: str, user_id: str, session_id: str, now: int | None = None) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    settings = get_settings()
    issued = int(time.time()) if now is None else now
    claims = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": user_id,
        "ten": tenant_id,
        "sid": session_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.access_token_ttl_seconds,
        "jti": secrets.token_urlsafe(16),
    }
    payload = json.dumps(claims, separators=(",", ":")).encode()
    token = _signer().encode(payload, key=signing_kid(), algorithm=ALGORITHM, headers={"kid": signing_kid()})
    return token, settings.access_token_ttl_seconds


def verify_access_token(token: str) -> dict[str, Any]:
    """The token's claims, or UnauthorizedError for any token that is not ours and current."""
    settings = get_settings()
    try:
        header = jwt.get_unverified_header(token)
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or kid not in trusted_kids():
            raise UnauthorizedError("token is not valid")
        claims: dict[str, Any] = jwt.decode(
            token,
            public_key(str(kid)),
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={"require": REQUIRED_CLAIMS},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as error:
        raise UnauthorizedError("token has expired") from error
    except jwt.PyJWTError as error:
        raise UnauthorizedError("token is not valid") from error
    return claims


def jwks() -> dict[str, list[dict[str, Any]]]:
    """The public keys, as a JSON Web Key Set."""
    keys = []
    for kid in trusted_kids():
        jwk = json.loads(ECAlgorithm.to_jwk(public_key(kid)))
        keys.append({**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"})
    return {"keys": keys}
