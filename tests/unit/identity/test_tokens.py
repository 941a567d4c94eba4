"""Clerk token verification: only well-signed, current RS256 tokens for this app pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from devhost.tokens import generate_private_key, public_pem, session_claims, sign
from shared.identity.roles import role_from_clerk
from shared.identity.tokens import bearer_token, org_claims, verify_token
from shared.platform.errors import Unauthorized
from shared.platform.principal import Role
from shared.platform.settings import Settings

KEY = generate_private_key()
OTHER_KEY = generate_private_key()
ISSUER = "https://clerk.example.test"
SETTINGS = Settings(clerk_jwt_key=public_pem(KEY), clerk_issuer=ISSUER, frontend_urls=("https://app.example.test",))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides):
    base = session_claims(user_id="user_1", org_id="org_1", role="admin", issuer=ISSUER)
    base.update(overrides)
    return base


def test_a_valid_token_yields_its_claims():
    assert verify_token(sign(claims(), KEY), SETTINGS)["sub"] == "user_1"


def test_escaped_newlines_in_the_configured_pem_are_accepted():
    settings = Settings(clerk_jwt_key=public_pem(KEY).replace("\n", "\\n"), clerk_issuer=ISSUER)
    assert verify_token(sign(claims(), KEY), settings)["sub"] == "user_1"


def test_a_token_signed_by_another_key_is_refused():
    with pytest.raises(Unauthorized, match="signature"):
        verify_token(sign(claims(), OTHER_KEY), SETTINGS)


def test_alg_none_is_refused():
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    with pytest.raises(Unauthorized, match="malformed"):
        verify_token(f"{header}.{payload}.", SETTINGS)
    with pytest.raises(Unauthorized, match="RS256"):
        verify_token(f"{header}.{payload}.c2ln", SETTINGS)


def test_hs256_keyed_with_the_public_key_is_refused():
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims()).encode())
    mac = hmac.new(public_pem(KEY).encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthorized, match="RS256"):
        verify_token(f"{header}.{payload}.{b64url(mac)}", SETTINGS)


def test_a_tampered_payload_is_refused():
    header, _, signature = sign(claims(), KEY).split(".")
    forged = b64url(json.dumps(claims(sub="user_admin")).encode())
    with pytest.raises(Unauthorized, match="signature"):
        verify_token(f"{header}.{forged}.{signature}", SETTINGS)


def test_expiry_allows_sixty_seconds_of_skew_and_no_more():
    now = time.time()
    verify_token(sign(claims(exp=int(now) - 30), KEY), SETTINGS)
    with pytest.raises(Unauthorized, match="expired"):
        verify_token(sign(claims(exp=int(now) - 90), KEY), SETTINGS)


@pytest.mark.parametrize(
    "overrides",
    [
        {"azp": 12345},
        {"azp": ["https://app.example.test"]},
        {"nbf": "tomorrow"},
        {"exp": "never"},
        {"iat": "now"},
        {"sub": 42},
        {"sub": ""},
        {"sub": "user/../admin"},
        {"o": {"id": {"nested": True}, "rol": "admin"}},
        {"o": {"id": "org/../x", "rol": "admin"}},
    ],
)
def test_validly_signed_tokens_with_ill_typed_claims_are_401_not_500(overrides):
    with pytest.raises(Unauthorized):
        verify_token(sign(claims(**overrides), KEY), SETTINGS)


def test_a_token_without_exp_is_refused():
    token_claims = claims()
    del token_claims["exp"]
    with pytest.raises(Unauthorized, match="expired"):
        verify_token(sign(token_claims, KEY), SETTINGS)


def test_not_before_in_the_future_is_refused():
    with pytest.raises(Unauthorized, match="not valid yet"):
        verify_token(sign(claims(nbf=int(time.time()) + 600), KEY), SETTINGS)


def test_issuer_must_match_when_configured():
    with pytest.raises(Unauthorized, match="issued by someone else"):
        verify_token(sign(claims(iss="https://evil.example"), KEY), SETTINGS)
    relaxed = Settings(clerk_jwt_key=public_pem(KEY))
    assert verify_token(sign(claims(iss="https://any.example"), KEY), relaxed)


def test_azp_must_be_a_frontend_url_when_present():
    verify_token(sign(claims(azp="https://app.example.test"), KEY), SETTINGS)
    with pytest.raises(Unauthorized, match="another application"):
        verify_token(sign(claims(azp="https://phish.example"), KEY), SETTINGS)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "!!.??.**", "e30.e30.e30"])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(Unauthorized):
        verify_token(token, SETTINGS)


def test_without_any_key_configured_sign_in_is_unavailable():
    with pytest.raises(Unauthorized, match="not configured"):
        verify_token(sign(claims(), KEY), Settings())


def test_org_claims_in_both_versions():
    v2 = org_claims(session_claims(user_id="u", org_id="org_9", role="admin", org_slug="acme"))
    assert (v2.org_id, v2.role, v2.slug) == ("org_9", "admin", "acme")
    v1 = org_claims(session_claims(user_id="u", org_id="org_9", role="admin", org_slug="acme", claims_version=1))
    assert (v1.org_id, v1.role, v1.slug) == ("org_9", "org:admin", "acme")
    assert org_claims({"sub": "u"}).org_id is None


@pytest.mark.parametrize(
    ("clerk_role", "role"),
    [
        ("org:admin", Role.ADMIN),
        ("admin", Role.ADMIN),
        ("org:member", Role.VIEWER),
        ("owner", Role.OWNER),
        ("org:operator", Role.OPERATOR),
        ("org:billing", None),
        (None, None),
    ],
)
def test_clerk_roles_map_onto_ours(clerk_role, role):
    assert role_from_clerk(clerk_role) == role


def test_role_order():
    assert Role.OWNER.at_least(Role.ADMIN)
    assert Role.OPERATOR.at_least(Role.VIEWER)
    assert not Role.VIEWER.at_least(Role.OPERATOR)


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), (None, None), ("Bearer", None)],
)
def test_bearer_header_parsing(header, token):
    assert bearer_token(header) == token
