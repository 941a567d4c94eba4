"""The runtime-session state machine, walked exhaustively: every (from, to) pair of the six states."""

from __future__ import annotations

import itertools

import pytest

from shared.platform.errors import BadRequest
from shared.realtime import states
from tests.unit.realtime.contract import runtime_session_schema

# The allowed moves, written out independently of the module's table.
ALLOWED = {
    ("initializing", "connected"),
    ("initializing", "closing"),
    ("connected", "active"),
    ("connected", "closing"),
    ("active", "paused"),
    ("paused", "active"),
    ("active", "closing"),
    ("paused", "closing"),
    ("closing", "closed"),
}


def test_the_states_are_the_contracts():
    assert list(states.STATES) == runtime_session_schema()["properties"]["state"]["enum"]
    assert states.INITIAL_STATE == "initializing"


@pytest.mark.parametrize(("current", "target"), list(itertools.product(states.STATES, repeat=2)))
def test_every_pair(current, target):
    if (current, target) in ALLOWED or current == target:
        assert states.can_transition(current, target)
        assert states.transition(current, target) == target
    else:
        assert not states.can_transition(current, target)
        with pytest.raises(BadRequest) as caught:
            states.transition(current, target)
        assert caught.value.code == "invalid_state_transition"
        assert repr(current) in caught.value.message and repr(target) in caught.value.message


def test_exactly_nine_moves_change_state():
    changing = {(a, b) for a, b in itertools.product(states.STATES, repeat=2) if a != b and states.can_transition(a, b)}
    assert changing == ALLOWED


@pytest.mark.parametrize(("current", "target"), [("ringing", "active"), ("active", "done")])
def test_unknown_states_are_named(current, target):
    with pytest.raises(BadRequest) as caught:
        states.transition(current, target)
    assert caught.value.code == "invalid_state"
    assert not states.can_transition(current, target)


def test_only_closed_is_terminal():
    assert [state for state in states.STATES if states.is_terminal(state)] == ["closed"]


@pytest.mark.parametrize(
    ("current", "target", "expected"),
    [
        ("initializing", "active", ["connected", "active"]),
        ("initializing", "paused", ["connected", "active", "paused"]),
        ("initializing", "closed", ["closing", "closed"]),
        ("paused", "active", ["active"]),
        ("active", "closed", ["closing", "closed"]),
        ("connected", "connected", []),
    ],
)
def test_path_to_follows_allowed_moves(current, target, expected):
    steps = states.path_to(current, target)
    assert steps == expected
    walked = current
    for step in steps:
        walked = states.transition(walked, step)
    assert walked == target


@pytest.mark.parametrize(
    ("current", "target"), [("closed", "active"), ("closing", "active"), ("active", "initializing")]
)
def test_path_to_refuses_what_cannot_be_reached(current, target):
    with pytest.raises(BadRequest):
        states.path_to(current, target)


def test_path_to_reaches_exactly_the_reachable_states():
    for current, target in itertools.product(states.STATES, repeat=2):
        reachable = {current}
        frontier = [current]
        while frontier:
            state = frontier.pop()
            for a, b in ALLOWED:
                if a == state and b not in reachable:
                    reachable.add(b)
                    frontier.append(b)
        if target in reachable:
            assert states.path_to(current, target)[-1:] == ([target] if target != current else [])
        else:
            with pytest.raises(BadRequest):
                states.path_to(current, target)
