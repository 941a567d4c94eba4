"""Attestation tokens: round trip, tampering, expiry, keys and rotation, the body check and accepted metrics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import string
from datetime import UTC, datetime, timedelta

import pytest

from shared.pilots.attestations import (
    DEV_SIGNING_KEY,
    INVALID_TOKEN_MESSAGE,
    MAX_TOKEN_LENGTH,
    AttestationMismatch,
    InvalidAttestationToken,
    accepted_metrics,
    check_body_matches,
    issue_token,
    read_token,
    signing_keys,
)
from shared.platform.errors import BadRequest, ServiceUnavailable
from shared.platform.settings import Settings

KEY = "k" * 16 + "attestation-test-key-0123456789"
OLD_KEY = "o" * 16 + "attestation-old-key-0123456789ab"
TENANT = "clinic-north"
PILOT = "PILOT-ABCDEFGH"
WEEK = "2026-W49"
ISSUED = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
SETTINGS = Settings(app_env="production", attestation_signing_key=KEY, attestation_token_ttl_days=14)
URL_SAFE = set(string.ascii_letters + string.digits + "-_.")


def token(**overrides: object) -> str:
    arguments = {"now": ISSUED, "settings": SETTINGS} | overrides
    return issue_token(TENANT, PILOT, WEEK, **arguments)


def read(value: object, *, now: datetime = ISSUED + timedelta(days=1), settings: Settings = SETTINGS):
    return read_token(value, now=now, settings=settings)


def refused(value: object, **kwargs: object) -> InvalidAttestationToken:
    with pytest.raises(InvalidAttestationToken) as caught:
        read(value, **kwargs)
    error = caught.value
    # One answer for every bad token: same class, status, code and message.
    assert isinstance(error, BadRequest)
    assert (error.status, error.code, error.message) == (400, "invalid_token", INVALID_TOKEN_MESSAGE)
    assert error.envelope() == {"error": "invalid_token", "message": INVALID_TOKEN_MESSAGE}
    return error


def test_a_token_round_trips_its_binding() -> None:
    claims = read(token())
    assert (claims.tenant_id, claims.pilot_id, claims.week_id) == (TENANT, PILOT, WEEK)
    assert claims.expires_at == ISSUED + timedelta(days=14)


def test_tokens_are_url_safe_and_fit_the_path_segment_even_for_the_longest_ids() -> None:
    longest_tenant = "t" + "x" * 62 + "t"
    value = issue_token(longest_tenant, "PILOT-ZZZZZZZZ", "9998-W52", now=ISSUED, settings=SETTINGS)
    assert len(value) <= MAX_TOKEN_LENGTH
    assert set(value) <= URL_SAFE
    assert read(value).tenant_id == longest_tenant
    assert set(token()) <= URL_SAFE and "=" not in token()


def test_the_token_is_the_documented_hmac_over_the_compact_payload() -> None:
    payload_part, tag_part = token().split(".")
    payload = base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4))
    expiry = int((ISSUED + timedelta(days=14)).timestamp())
    assert payload == f"1|{TENANT}|{PILOT}|{WEEK}|{expiry}".encode()
    expected = hmac.new(KEY.encode(), b"tellgence.attestation.v1\x00" + payload, hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(tag_part + "=" * (-len(tag_part) % 4)) == expected


def test_every_single_character_change_is_refused() -> None:
    original = token()
    alphabet = string.ascii_letters + string.digits + "-_"
    for index, char in enumerate(original):
        if char == ".":
            continue
        replacement = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        refused(original[:index] + replacement + original[index + 1 :])


def test_a_payload_rebound_to_another_week_pilot_or_tenant_keeps_no_valid_tag() -> None:
    original = token()
    payload_part, tag_part = original.split(".")
    payload = base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)).decode()
    for before, after in ((WEEK, "2026-W50"), (PILOT, "PILOT-ABCDEFGJ"), (TENANT, "clinic-south")):
        forged = base64.urlsafe_b64encode(payload.replace(before, after).encode()).rstrip(b"=").decode()
        refused(f"{forged}.{tag_part}")
    # Pushing the expiry out is tampering too.
    later = payload.rsplit("|", 1)[0] + "|9999999999"
    forged = base64.urlsafe_b64encode(later.encode()).rstrip(b"=").decode()
    refused(f"{forged}.{tag_part}")


@pytest.mark.parametrize(
    "value",
    [
        "",
        ".",
        "abc",
        "abc.",
        ".abc",
        "a.b.c",
        "x" * 201,
        "a+b.c/d",
        "YQ.YQ==",
        "😀.😀",
        None,
        42,
    ],
)
def test_malformed_tokens_are_refused_alike(value: object) -> None:
    refused(value)


def test_a_padded_or_trailing_newline_token_is_refused() -> None:
    refused(token() + "=")
    refused(token() + "\n")
    refused(" " + token())


def test_an_expired_token_is_refused_alike() -> None:
    value = token(ttl=timedelta(hours=1))
    assert read(value, now=ISSUED + timedelta(minutes=59)).week_id == WEEK
    refused(value, now=ISSUED + timedelta(hours=1))
    refused(value, now=ISSUED + timedelta(days=30))


def test_the_default_lifetime_comes_from_settings() -> None:
    short = Settings(app_env="production", attestation_signing_key=KEY, attestation_token_ttl_days=2)
    value = issue_token(TENANT, PILOT, WEEK, now=ISSUED, settings=short)
    assert read_token(value, now=ISSUED + timedelta(days=1), settings=short).expires_at == ISSUED + timedelta(days=2)
    refused(value, now=ISSUED + timedelta(days=2), settings=short)


def test_a_token_signed_with_an_unknown_key_is_refused_alike() -> None:
    stranger = Settings(app_env="production", attestation_signing_key="s" * 40)
    refused(issue_token(TENANT, PILOT, WEEK, now=ISSUED, settings=stranger))


def test_the_previous_key_still_verifies_after_a_rotation() -> None:
    before = Settings(app_env="production", attestation_signing_key=OLD_KEY)
    emailed = issue_token(TENANT, PILOT, WEEK, now=ISSUED, settings=before)
    rotated = Settings(app_env="production", attestation_signing_key=KEY, attestation_signing_key_previous=OLD_KEY)
    assert read(emailed, settings=rotated).pilot_id == PILOT
    # New tokens use the new key.
    assert read(issue_token(TENANT, PILOT, WEEK, now=ISSUED, settings=rotated)).pilot_id == PILOT
    # Once the old key is dropped, its tokens stop working.
    refused(emailed)


def test_without_a_key_attestations_are_not_configured_outside_local() -> None:
    bare = Settings(app_env="production")
    with pytest.raises(ServiceUnavailable, match="ATTESTATION_SIGNING_KEY"):
        issue_token(TENANT, PILOT, WEEK, now=ISSUED, settings=bare)
    with pytest.raises(ServiceUnavailable):
        read_token(token(), now=ISSUED, settings=bare)


def test_locally_a_fixed_development_key_signs() -> None:
    local = Settings(app_env="local")
    assert signing_keys(local) == (DEV_SIGNING_KEY,)
    value = issue_token(TENANT, PILOT, WEEK, now=ISSUED, settings=local)
    assert read_token(value, now=ISSUED, settings=Settings(app_env="test")).week_id == WEEK
    # A configured key wins locally too, and the dev key is not accepted next to it.
    configured = Settings(app_env="local", attestation_signing_key=KEY)
    assert signing_keys(configured) == (KEY,)
    refused(value, settings=configured)


@pytest.mark.parametrize(
    ("tenant", "pilot", "week"),
    [
        ("Clinic-North", PILOT, WEEK),
        ("clinic|north", PILOT, WEEK),
        ("c", PILOT, WEEK),
        (TENANT, "PILOT-abcdefgh", WEEK),
        (TENANT, "PILOT-ABCDEFGH|x", WEEK),
        (TENANT, PILOT, "2025-W53"),
        (TENANT, PILOT, "2026-W49|"),
    ],
)
def test_only_well_formed_bindings_are_signed(tenant: str, pilot: str, week: str) -> None:
    with pytest.raises((ValueError, BadRequest)):
        issue_token(tenant, pilot, week, now=ISSUED, settings=SETTINGS)


def test_a_non_positive_lifetime_is_refused() -> None:
    with pytest.raises(ValueError):
        token(ttl=timedelta(0))


def test_the_body_must_name_the_tokens_pilot_and_week() -> None:
    claims = read(token())
    check_body_matches(claims, pilot_id=PILOT, week_id=WEEK)
    for pilot, week in ((PILOT, "2026-W48"), ("PILOT-ZZZZZZZZ", WEEK), (PILOT, None), (None, WEEK)):
        with pytest.raises(AttestationMismatch) as caught:
            check_body_matches(claims, pilot_id=pilot, week_id=week)
        assert caught.value.status == 400 and caught.value.code == "attestation_mismatch"


def test_only_metrics_the_snapshot_has_are_accepted() -> None:
    snapshot = {"weekId": WEEK, "callsHandled": 12, "bookingsConfirmed": 3, "estimatedValueRecoveredUsd": 977.0}
    submitted = {
        "estimatedValueRecoveredUsd": 950.5,
        "callsHandled": 12,
        "bookingsConfirmed": True,
        "missedCallsRecovered": 4,
        "weekId": 1,
        "inventedMetric": 7,
        "exceptionsOpen": float("nan"),
    }
    assert accepted_metrics(submitted, snapshot) == {"callsHandled": 12, "estimatedValueRecoveredUsd": 950.5}
    assert list(accepted_metrics(submitted, snapshot)) == ["callsHandled", "estimatedValueRecoveredUsd"]
    assert accepted_metrics(None, snapshot) == {}
    full = {"callsHandled": 1, "missedCallsRecovered": 0, "exceptionsOpen": 0}
    assert accepted_metrics({"exceptionsOpen": float("inf"), "missedCallsRecovered": 0}, full) == {
        "missedCallsRecovered": 0
    }
