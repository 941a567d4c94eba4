"""Lead and feedback ids: prefix, length, alphabet, randomness, derivation, pattern."""

from __future__ import annotations

import pytest

from shared.leads import ids
from tests.support.contract import load_contract


def test_lead_ids_are_lead_dash_and_eight_unambiguous_characters():
    for _ in range(500):
        lead_id = ids.new_lead_id()
        assert lead_id.startswith("LEAD-") and len(lead_id) == 13
        assert set(lead_id[5:]) <= set(ids.ALPHABET)
        assert ids.is_lead_id(lead_id)


def test_the_alphabet_has_no_look_alike_characters():
    assert len(set(ids.ALPHABET)) == len(ids.ALPHABET) == 31
    assert not set(ids.ALPHABET) & set("01ILOilo")
    assert all(char.isdigit() or char.isupper() for char in ids.ALPHABET)


def test_ids_are_random_and_use_the_whole_alphabet():
    drawn = [ids.new_lead_id() for _ in range(2000)]
    assert len(set(drawn)) == len(drawn)
    assert set("".join(lead_id[5:] for lead_id in drawn)) == set(ids.ALPHABET)


def test_a_successor_id_is_a_lead_id_derived_from_tenant_address_and_predecessor():
    first = ids.successor_lead_id("acme", "jane@example.com", None)
    assert ids.is_lead_id(first)
    assert first == ids.successor_lead_id("acme", "jane@example.com", None)
    derived = {
        first,
        ids.successor_lead_id("acme", "jane@example.com", first),
        ids.successor_lead_id("other", "jane@example.com", None),
        ids.successor_lead_id("acme", "john@example.com", None),
        # The separator keeps shifted boundaries apart.
        ids.successor_lead_id("acme\x1fjane", "example.com", None),
    }
    assert len(derived) == 5


def test_feedback_ids_follow_the_contract_shape():
    feedback_id = ids.new_feedback_id()
    assert feedback_id.startswith("FB-") and len(feedback_id) == 11
    assert ids.is_feedback_id(feedback_id) and not ids.is_lead_id(feedback_id)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "LEAD-",
        "LEAD-2345678",  # 7 characters
        "LEAD-234567899",  # 9 characters
        "lead-23456789",
        "LEAD-2345678a",
        "LEAD-0OIL2345",  # look-alikes are not in the alphabet
        "LEAD-12345678",  # the contract's example uses digits we never issue
        " LEAD-23456789",
        "LEAD-23456789\n",
        "FB-23456789",
        "LEAD_23456789",
        None,
        23456789,
    ],
)
def test_malformed_lead_ids_are_refused(value):
    assert not ids.is_lead_id(value)


def test_the_contract_names_lead_ids_with_the_lead_prefix_and_eight_characters():
    contract = load_contract()
    schema = contract["paths"]["/api/leads"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    example = schema["properties"]["leadId"]["example"]
    assert example.startswith(ids.LEAD_PREFIX) and len(example) == len(ids.LEAD_PREFIX) + ids.SUFFIX_LENGTH
