"""The pilot lifecycle: every (from, to) pair, creation, lead moves, dates and the contract's enums."""

from __future__ import annotations

import itertools

import pytest

from shared.pilots import machine
from shared.pilots.ids import PILOT_ID_PATTERN, is_pilot_id, new_pilot_id
from shared.pilots.machine import (
    LEAD_STATUSES,
    STATUSES,
    InvalidPilotDates,
    InvalidPilotTransition,
    check_dates,
    check_move,
    initial_status,
    lead_move,
)
from shared.platform.errors import BadRequest
from tests.unit.pilots.schemas import request_schema, response_schema

# The legal moves, written out by hand: every other pair of distinct statuses must be refused.
EXPECTED_MOVES = {
    ("invited", "setup"),
    ("invited", "lost"),
    ("setup", "active"),
    ("setup", "lost"),
    ("active", "completed"),
    ("active", "lost"),
    ("completed", "converted"),
    ("completed", "lost"),
}

# (lead status, pilot status) -> the lead's new status; pairs not listed leave the lead alone.
EXPECTED_LEAD_MOVES = {
    ("new", "invited"): "pilot_requested",
    ("new", "setup"): "pilot_requested",
    ("new", "active"): "pilot_active",
    ("new", "completed"): "pilot_active",
    ("contacted", "invited"): "pilot_requested",
    ("contacted", "setup"): "pilot_requested",
    ("contacted", "active"): "pilot_active",
    ("contacted", "completed"): "pilot_active",
    ("pilot_requested", "active"): "pilot_active",
    ("pilot_requested", "completed"): "pilot_active",
}


def test_statuses_are_the_contracts() -> None:
    pilot = response_schema("/api/cp/pilots", "post", "201")
    assert list(STATUSES) == pilot["properties"]["status"]["enum"]
    assert list(STATUSES) == request_schema("/api/cp/pilots/{pilotId}", "patch")["properties"]["status"]["enum"]
    lead = request_schema("/api/cp/leads/{leadId}", "patch")["properties"]["status"]["enum"]
    assert list(LEAD_STATUSES) == lead


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_pair_of_statuses(current: str, target: str) -> None:
    if current == target:
        assert machine.is_noop(current, target)
        assert not machine.can_move(current, target)
        assert check_move(current, target) == target
    elif (current, target) in EXPECTED_MOVES:
        assert machine.can_move(current, target)
        assert check_move(current, target) == target
    else:
        assert not machine.can_move(current, target)
        with pytest.raises(InvalidPilotTransition) as caught:
            check_move(current, target)
        assert isinstance(caught.value, BadRequest) and caught.value.status == 400
        assert caught.value.code == "invalid_pilot_transition"
        assert current in caught.value.message


def test_the_transition_table_is_exactly_the_expected_one() -> None:
    assert set(machine.TRANSITIONS) == EXPECTED_MOVES


def test_converted_and_lost_are_final_and_lost_is_reachable_from_every_open_status() -> None:
    for status in ("converted", "lost"):
        assert machine.allowed_targets(status) == ()
        with pytest.raises(InvalidPilotTransition, match="final"):
            check_move(status, "active")
    for status in ("invited", "setup", "active", "completed"):
        assert "lost" in machine.allowed_targets(status)
    assert machine.allowed_targets("active") == ("completed", "lost")


def test_the_refusal_names_the_legal_moves() -> None:
    with pytest.raises(InvalidPilotTransition, match="from invited it can move to setup or lost"):
        check_move("invited", "active")


@pytest.mark.parametrize(("current", "target"), [("paused", "active"), ("active", "paused"), (None, "active")])
def test_unknown_statuses_are_refused(current: object, target: object) -> None:
    with pytest.raises(InvalidPilotTransition, match="unknown"):
        check_move(current, target)


def test_a_new_pilot_starts_invited_setup_or_active_only() -> None:
    assert initial_status(None) == "invited"
    for status in ("invited", "setup", "active"):
        assert initial_status(status) == status
    for status in ("completed", "converted", "lost", "draft"):
        with pytest.raises(InvalidPilotTransition):
            initial_status(status)


def test_only_active_pilots_take_snapshots() -> None:
    assert [status for status in STATUSES if machine.takes_snapshots(status)] == ["active"]


@pytest.mark.parametrize(("lead_status", "pilot_status"), list(itertools.product(LEAD_STATUSES, STATUSES)))
def test_every_lead_move(lead_status: str, pilot_status: str) -> None:
    assert lead_move(lead_status, pilot_status) == EXPECTED_LEAD_MOVES.get((lead_status, pilot_status))


def test_a_lead_in_an_unknown_status_is_left_alone() -> None:
    assert lead_move("archived", "active") is None
    assert lead_move(None, "invited") is None
    with pytest.raises(InvalidPilotTransition):
        lead_move("new", "paused")


def test_a_lead_follows_its_pilot_step_by_step() -> None:
    lead = "contacted"
    path = []
    for pilot_status in ("invited", "setup", "active", "completed", "converted"):
        lead = lead_move(lead, pilot_status) or lead
        path.append(lead)
    assert path == ["pilot_requested", "pilot_requested", "pilot_active", "pilot_active", "pilot_active"]


def test_pilot_dates_are_iso_and_the_end_comes_after_the_start() -> None:
    check_dates(None, None)
    check_dates("2026-12-01", None)
    check_dates(None, "2027-01-31")
    check_dates("2026-12-01", "2027-01-31")
    check_dates("2026-12-01T09:00:00Z", "2026-12-01T09:00:01Z")
    with pytest.raises(InvalidPilotDates, match="after"):
        check_dates("2026-12-01", "2026-12-01")
    with pytest.raises(InvalidPilotDates, match="after"):
        check_dates("2027-01-31", "2026-12-01")
    for bad in ("next monday", "2026-13-01", "", 20261201):
        with pytest.raises(InvalidPilotDates) as caught:
            check_dates(bad, None)
        assert caught.value.status == 400


def test_pilot_ids_match_the_contracts_shape() -> None:
    ids = {new_pilot_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(PILOT_ID_PATTERN.fullmatch(value) for value in ids)
    assert all(is_pilot_id(value) and len(value) == 14 for value in ids)
    for bad in ("PILOT-ab12cdef", "PILOT-AB12CDEF", "PILOT-ABCDEFG", "PILOT-ABCDEFGHJ", "LEAD-ABCDEFGH", None, 7):
        assert not is_pilot_id(bad)
    assert not is_pilot_id("PILOT-ABCDEFGH\n")
