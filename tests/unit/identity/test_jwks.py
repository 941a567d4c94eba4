"""Keys from a JWKS endpoint (a local fake): cached, refreshed when an unknown kid appears."""

from __future__ import annotations

import base64

import pytest

from devhost.tokens import generate_private_key, session_claims, sign
from shared.identity import tokens
from shared.identity.tokens import verify_token
from shared.platform.errors import Unauthorized
from shared.platform.settings import Settings


def jwk(key, kid: str) -> dict:
    numbers = key.public_key().public_numbers()

    def b64(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64(numbers.n), "e": b64(numbers.e)}


@pytest.fixture(autouse=True)
def fresh_key_store(monkeypatch):
    monkeypatch.setattr(tokens, "_keys", tokens._KeyStore())
    monkeypatch.setattr(tokens, "JWKS_MIN_REFRESH_SECONDS", 0)
    yield


def test_keys_are_fetched_once_and_refreshed_for_an_unknown_kid(httpserver):
    first, second = generate_private_key(), generate_private_key()
    httpserver.expect_request("/.well-known/jwks.json").respond_with_json({"keys": [jwk(first, "k1")]})
    settings = Settings(clerk_jwks_url=httpserver.url_for("/.well-known/jwks.json"))
    claims = session_claims(user_id="u", org_id=None, role=None)

    assert verify_token(sign(claims, first, kid="k1"), settings)["sub"] == "u"
    assert verify_token(sign(claims, first, kid="k1"), settings)["sub"] == "u"
    assert len(httpserver.log) == 1

    httpserver.clear()
    httpserver.expect_request("/.well-known/jwks.json").respond_with_json(
        {"keys": [jwk(first, "k1"), jwk(second, "k2")]}
    )
    assert verify_token(sign(claims, second, kid="k2"), settings)["sub"] == "u"
    assert len(httpserver.log) == 1


def test_unknown_kids_refetch_the_jwks_at_most_once_per_interval(httpserver, monkeypatch):
    monkeypatch.setattr(tokens, "JWKS_MIN_REFRESH_SECONDS", 3600)
    known, rogue = generate_private_key(), generate_private_key()
    httpserver.expect_request("/jwks").respond_with_json({"keys": [jwk(known, "k1")]})
    settings = Settings(clerk_jwks_url=httpserver.url_for("/jwks"))
    claims = session_claims(user_id="u", org_id=None, role=None)
    assert verify_token(sign(claims, known, kid="k1"), settings)["sub"] == "u"
    for index in range(5):
        with pytest.raises(Unauthorized, match="unknown key"):
            verify_token(sign(claims, rogue, kid=f"invented-{index}"), settings)
    assert len(httpserver.log) == 1


def test_a_kid_the_jwks_does_not_have_is_refused(httpserver):
    known, rogue = generate_private_key(), generate_private_key()
    httpserver.expect_request("/jwks").respond_with_json({"keys": [jwk(known, "k1")]})
    settings = Settings(clerk_jwks_url=httpserver.url_for("/jwks"))
    with pytest.raises(Unauthorized, match="unknown key"):
        verify_token(sign(session_claims(user_id="u", org_id=None, role=None), rogue, kid="k9"), settings)


def test_an_unreachable_jwks_is_a_401_not_a_crash(httpserver):
    httpserver.expect_request("/jwks").respond_with_data("down", status=503)
    settings = Settings(clerk_jwks_url=httpserver.url_for("/jwks"))
    with pytest.raises(Unauthorized, match="cannot be fetched"):
        verify_token(sign(session_claims(user_id="u", org_id=None, role=None), generate_private_key()), settings)
