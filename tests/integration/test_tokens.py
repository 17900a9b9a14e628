"""The authorizer refuses every token that is not ours, current and for this API."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from riveredge.auth import tokens

from local_stack.stack import LocalStack
from tests.integration.conftest import TenantFixture
from tests.support import claims_of


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _signed(claims: dict[str, Any], kid: str | None = None) -> str:
    """A token signed by the real KMS key, with whatever claims the test wants."""
    payload = json.dumps(claims).encode()
    kid = kid or tokens.signing_kid()
    return tokens._signer().encode(payload, key=tokens.signing_kid(), algorithm="ES256", headers={"kid": kid})


def _me(stack: LocalStack, token: str) -> Any:
    return stack.request("GET", "/api/auth/me", token=token)


def test_a_request_without_a_token_gets_401(stack: LocalStack) -> None:
    reply = stack.request("GET", "/api/auth/me")
    assert reply.status == 401
    assert reply.content_type == "application/problem+json"
    assert reply.json()["type"] == "/problems/unauthorized"


def test_the_real_token_is_accepted(stack: LocalStack, acme: TenantFixture) -> None:
    assert _me(stack, acme.admin_token).status == 200


@pytest.mark.parametrize(
    "case",
    [
        "alg_none",
        "tampered_payload",
        "expired",
        "wrong_audience",
        "wrong_issuer",
        "unknown_kid",
        "hs256_public_key",
        "not_a_jwt",
        "missing_jti",
    ],
)
def test_forged_or_stale_tokens_get_401(stack: LocalStack, acme: TenantFixture, case: str) -> None:
    # Given a token that starts from the admin's real claims
    claims = claims_of(acme.admin_token)
    header = {"alg": "ES256", "typ": "JWT", "kid": tokens.signing_kid()}
    now = int(time.time())
    if case == "alg_none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    elif case == "tampered_payload":
        head, _, signature = acme.admin_token.split(".")
        token = f"{head}.{_b64({**claims, 'sub': 'someone-else'})}.{signature}"
    elif case == "expired":
        token = _signed({**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600})
    elif case == "wrong_audience":
        token = _signed({**claims, "aud": "another-api"})
    elif case == "wrong_issuer":
        token = _signed({**claims, "iss": "https://evil.example"})
    elif case == "unknown_kid":
        token = _signed(claims, kid="not-our-key")
    elif case == "hs256_public_key":
        public_pem = tokens.public_key(tokens.signing_kid()).public_bytes(
            Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
        )
        signing_input = f"{_b64({**header, 'alg': 'HS256'})}.{_b64(claims)}".encode()
        import hashlib
        import hmac

        signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
        token = f"{signing_input.decode()}.{signature.decode()}"
    elif case == "not_a_jwt":
        token = "definitely-not-a-token"
    else:
        token = _signed({k: v for k, v in claims.items() if k != "jti"})
    # When it is presented, then the gateway answers 401 problem+json and never reaches the route
    reply = _me(stack, token)
    assert reply.status == 401, case
    assert reply.content_type == "application/problem+json"


def test_pyjwt_refuses_hs256_with_our_public_key_even_when_asked_directly() -> None:
    public_pem = tokens.public_key(tokens.signing_kid()).public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(jwt.PyJWTError):
        jwt.encode({"sub": "x"}, public_pem, algorithm="HS256")


def test_jwks_serves_the_key_that_verifies_access_tokens(stack: LocalStack, acme: TenantFixture) -> None:
    reply = stack.request("GET", "/.well-known/jwks.json")
    assert reply.status == 200
    jwk = reply.json()["keys"][0]
    assert jwk["kid"] == jwt.get_unverified_header(acme.admin_token)["kid"]
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(acme.admin_token, key, algorithms=["ES256"], audience="riveredge-api")
    assert claims["ten"] == acme.id
