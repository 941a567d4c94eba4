"""The lead status machine: every (status, target) pair, no-ops, history and purity."""

from __future__ import annotations

import copy
import itertools

import pytest

from shared.leads import status
from shared.leads.status import InvalidStatusTransition
from shared.platform.errors import BadRequest
from tests.support.contract import load_contract

NOW = "2026-03-01T12:00:00.000Z"

# The legal moves, written out by hand: every other pair of distinct statuses must be refused.
EXPECTED = {
    ("new", "contacted"),
    ("contacted", "pilot_requested"),
    ("pilot_requested", "pilot_active"),
    ("pilot_active", "paid"),
    ("new", "lost"),
    ("contacted", "lost"),
    ("pilot_requested", "lost"),
    ("pilot_active", "lost"),
    ("paid", "lost"),
}


def test_the_statuses_are_the_contracts():
    schema = load_contract()["paths"]["/api/cp/leads/{leadId}"]["patch"]["requestBody"]["content"]
    assert list(status.STATUSES) == schema["application/json"]["schema"]["properties"]["status"]["enum"]


@pytest.mark.parametrize(("current", "target"), list(itertools.product(status.STATUSES, repeat=2)))
def test_every_pair(current, target):
    if current == target:
        assert status.plan(current, target) is None
        assert not status.can_move(current, target)
    elif (current, target) in EXPECTED:
        change = status.plan(current, target)
        assert change == status.StatusChange(previous=current, status=target)
        assert status.can_move(current, target)
    else:
        assert not status.can_move(current, target)
        with pytest.raises(InvalidStatusTransition) as error:
            status.plan(current, target)
        assert error.value.status == 400 and error.value.code == "invalid_status_transition"
        assert current in error.value.message and target in error.value.message


def test_the_table_matches_the_expectation_exactly():
    table = {(current, target) for current, targets in status.TRANSITIONS.items() for target in targets}
    assert table == EXPECTED
    assert set(status.TRANSITIONS) == set(status.STATUSES)


def test_lost_is_final_and_reachable_from_everything_else():
    assert status.allowed_targets("lost") == frozenset()
    assert all("lost" in status.allowed_targets(s) for s in status.STATUSES if s != "lost")


def test_unknown_statuses_are_refused_as_bad_requests():
    with pytest.raises(BadRequest):
        status.plan("new", "won")
    with pytest.raises(BadRequest):
        status.plan("archived", "lost")
    assert status.allowed_targets("archived") == frozenset()


def test_apply_records_the_change_and_does_not_touch_its_input():
    lead = {"leadId": "LEAD-23456789", "status": "new", "updatedAt": "2026-01-01T00:00:00.000Z"}
    before = copy.deepcopy(lead)
    updated, change = status.apply(lead, "contacted", actor="user_1", now=NOW)
    assert lead == before
    assert change == status.StatusChange("new", "contacted")
    assert updated["status"] == "contacted"
    assert updated["statusChangedAt"] == updated["updatedAt"] == NOW
    assert updated["statusHistory"] == [{"from": "new", "to": "contacted", "at": NOW, "actor": "user_1"}]


def test_apply_a_no_op_changes_nothing():
    lead = {"status": "paid", "updatedAt": "2026-01-01T00:00:00.000Z", "statusHistory": []}
    updated, change = status.apply(lead, "paid", actor="user_1", now=NOW)
    assert change is None and updated == lead


def test_a_lead_without_a_status_is_new():
    updated, change = status.apply({}, "contacted", actor="u", now=NOW)
    assert change == status.StatusChange("new", "contacted") and updated["status"] == "contacted"


def test_the_whole_pipeline_then_lost_keeps_a_bounded_history():
    lead: dict = {"status": "new"}
    for target in ("contacted", "pilot_requested", "pilot_active", "paid", "lost"):
        lead, change = status.apply(lead, target, actor="user_1", now=NOW)
        assert change is not None
    assert [entry["to"] for entry in lead["statusHistory"]] == [
        "contacted",
        "pilot_requested",
        "pilot_active",
        "paid",
        "lost",
    ]
    with pytest.raises(InvalidStatusTransition):
        status.apply(lead, "new", actor="user_1", now=NOW)
