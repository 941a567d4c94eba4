"""EmailMessage validation: addresses, header injection, bounds, frozen, JSON round trip."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from shared.email.models import (
    MAX_RECIPIENTS,
    EmailMessage,
    InvalidAddress,
    is_address,
    mask_address,
    normalize_address,
)


def message(**overrides: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "to": ["patient@example.com"],
        "subject": "Your appointment",
        "text": "See you tomorrow.",
        "idempotency_key": "reminder:s-1:2026-01-02T09:00:00Z",
    }
    return EmailMessage(**{**fields, **overrides})


def error_fields(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {str(item["loc"][0]) for item in error.value.errors()}


def test_a_minimal_message_is_valid_with_defaults():
    email = message()
    assert email.to == ["patient@example.com"]
    assert email.html is None and email.reply_to is None and email.correlation_id is None
    assert email.tags == {}
    assert email.created.tzinfo is not None


@pytest.mark.parametrize(
    "address",
    ["a@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.org", "x_y-z@tellgence.local"],
)
def test_plain_addresses_are_accepted(address: str):
    assert is_address(address)
    assert message(to=[address]).to == [address]


@pytest.mark.parametrize(
    "address",
    [
        "",
        "plain",
        "@example.com",
        "a@",
        "a@localhost",
        "a@@example.com",
        "a b@example.com",
        "a..b@example.com",
        ".a@example.com",
        "Jane <jane@example.com>",
        "jane@example.com\r\nBcc: victim@example.com",
        "jane@exa_mple.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
        "jöran@example.com",
        '"quoted"@example.com',
        "a@[192.0.2.1]",
        "a@192.0.2.1",
        "a@hidden.onion",
        "a@mail.invalid",
        "a@example.123",
    ],
)
def test_invalid_addresses_are_rejected(address: str):
    assert not is_address(address)
    with pytest.raises(ValidationError) as error:
        message(to=[address])
    assert error_fields(error) == {"to"}
    with pytest.raises(ValidationError) as error:
        message(reply_to=address)
    assert error_fields(error) == {"reply_to"}


def test_normalize_address_gives_the_ascii_form_with_a_lower_case_domain():
    assert normalize_address("Jane.Doe@Example.COM") == "Jane.Doe@example.com"
    assert normalize_address("jane@bücher.de") == "jane@xn--bcher-kva.de"
    assert normalize_address("dev@tellgence.local") == "dev@tellgence.local"
    assert normalize_address("qa@suite.test") == "qa@suite.test"
    assert message(to=["jane@bücher.de"]).to == ["jane@xn--bcher-kva.de"]


@pytest.mark.parametrize("value", [None, 42, b"a@example.com", "", " a@example.com", "a@example.com\n"])
def test_normalize_address_refuses_non_strings_and_surrounding_whitespace(value):
    with pytest.raises(InvalidAddress) as error:
        normalize_address(value)
    assert str(error.value) == "must be an email address"


def test_validation_errors_do_not_quote_the_rejected_address_in_our_message():
    with pytest.raises(ValidationError) as error:
        message(to=["secret.person@@example.com"])
    assert all("secret.person" not in item["msg"] for item in error.value.errors())


def test_recipients_are_bounded_and_deduplicated():
    with pytest.raises(ValidationError):
        message(to=[])
    with pytest.raises(ValidationError):
        message(to=[f"p{i}@example.com" for i in range(MAX_RECIPIENTS + 1)])
    assert len(message(to=[f"p{i}@example.com" for i in range(MAX_RECIPIENTS)]).to) == MAX_RECIPIENTS
    assert message(to=[" A@example.com ", "a@example.com", "b@example.com"]).to == ["A@example.com", "b@example.com"]


@pytest.mark.parametrize(
    "subject",
    [
        "Hello\r\nBcc: victim@example.com",
        "Hello\nBcc: victim@example.com",
        "Hello\rX-Injected: 1",
        "tab\there",
        "nul\x00",
        "",
        "   ",
        "x" * 201,
    ],
)
def test_subjects_with_line_breaks_control_characters_or_bad_length_are_rejected(subject: str):
    with pytest.raises(ValidationError) as error:
        message(subject=subject)
    assert error_fields(error) == {"subject"}


def test_a_long_unicode_subject_within_the_limit_is_accepted():
    assert message(subject="Rendez-vous confirmé ✓ " + "é" * 170).subject.startswith("Rendez-vous")


def test_text_and_idempotency_key_are_required_and_html_is_optional_but_not_empty():
    for missing in ("text", "idempotency_key", "to", "subject"):
        fields = {"to": ["a@example.com"], "subject": "s", "text": "t", "idempotency_key": "k"}
        del fields[missing]
        with pytest.raises(ValidationError) as error:
            EmailMessage(**fields)
        assert error_fields(error) == {missing}
    with pytest.raises(ValidationError):
        message(text="")
    with pytest.raises(ValidationError):
        message(html="")
    with pytest.raises(ValidationError):
        message(idempotency_key="key\nwith break")
    assert message(html="<p>Hi</p>").html == "<p>Hi</p>"


def test_tags_and_correlation_ids_cannot_smuggle_headers():
    assert message(tags={"kind": "reminder", "tenant.id": "acme"}).tags == {"kind": "reminder", "tenant.id": "acme"}
    for tags in ({"bad name": "x"}, {"kind": "a\r\nBcc: x@example.com"}, {"kind": "a;b"}, {"": "x"}):
        with pytest.raises(ValidationError):
            message(tags=tags)
    with pytest.raises(ValidationError):
        message(tags={f"t{i}": "x" for i in range(11)})
    assert message(correlation_id="c-123:abc").correlation_id == "c-123:abc"
    with pytest.raises(ValidationError):
        message(correlation_id="c\r\nX: 1")


def test_created_at_must_be_an_aware_iso_timestamp():
    assert message(created_at="2026-01-02T09:00:00.000Z").created.year == 2026
    for value in ("yesterday", "2026-01-02T09:00:00"):
        with pytest.raises(ValidationError):
            message(created_at=value)


def test_the_model_is_frozen_and_rejects_unknown_fields():
    email = message()
    with pytest.raises(ValidationError):
        email.subject = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        message(body="typo for text")


def test_json_round_trip_is_lossless():
    email = message(html="<p>x</p>", reply_to="desk@example.com", tags={"kind": "r"}, correlation_id="c1")
    assert EmailMessage.model_validate_json(email.model_dump_json()) == email


def test_mask_address_keeps_only_the_first_character_of_the_local_part():
    assert mask_address("jane.doe@example.com") == "j***@example.com"
    assert mask_address("not an address") == "***"
