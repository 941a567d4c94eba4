"""The runtime-session state machine: initializing → connected → active ⇄ paused → closing → closed.

| from         | to (allowed)                  |
| ------------ | ----------------------------- |
| initializing | connected, closing            |
| connected    | active, closing               |
| active       | paused, closing               |
| paused       | active, closing               |
| closing      | closed                        |
| closed       | (none: terminal)              |

Any live state may go to `closing` (a caller hangs up before, during or after connecting); only `closing`
reaches `closed`. Repeating the current state is accepted as a no-op, so a retried report is harmless.
Every other move is a BadRequest naming both states.
"""

from __future__ import annotations

from collections import deque

from shared.platform.errors import BadRequest

STATES = ("initializing", "connected", "active", "paused", "closing", "closed")
INITIAL_STATE = "initializing"
TERMINAL_STATES = frozenset({"closed"})

TRANSITIONS: dict[str, frozenset[str]] = {
    "initializing": frozenset({"connected", "closing"}),
    "connected": frozenset({"active", "closing"}),
    "active": frozenset({"paused", "closing"}),
    "paused": frozenset({"active", "closing"}),
    "closing": frozenset({"closed"}),
    "closed": frozenset(),
}


def _known(state: str, role: str) -> str:
    if state not in TRANSITIONS:
        raise BadRequest(f"Unknown {role} state {state!r}; states are {', '.join(STATES)}", code="invalid_state")
    return state


def can_transition(current: str, target: str) -> bool:
    """Whether one move from current to target is allowed (repeating the current state is)."""
    return current in TRANSITIONS and target in TRANSITIONS and (current == target or target in TRANSITIONS[current])


def transition(current: str, target: str) -> str:
    """The state after moving from current to target; BadRequest naming the move when it is not allowed."""
    _known(current, "current")
    _known(target, "target")
    if not can_transition(current, target):
        raise BadRequest(
            f"A realtime session cannot move from {current!r} to {target!r}", code="invalid_state_transition"
        )
    return target


def path_to(current: str, target: str) -> list[str]:
    """The shortest run of allowed moves from current to target (states after current, in order).

    For events that imply a state: an utterance on an `initializing` session means it connected and became
    active (`["connected", "active"]`). Empty when already there; BadRequest naming the move when the target
    cannot be reached (e.g. anything from `closed`).
    """
    _known(current, "current")
    _known(target, "target")
    if current == target:
        return []
    previous: dict[str, str] = {}
    queue = deque([current])
    while queue:
        state = queue.popleft()
        for following in sorted(TRANSITIONS[state], key=STATES.index):
            if following in previous or following == current:
                continue
            previous[following] = state
            if following == target:
                steps = [target]
                while previous[steps[-1]] != current:
                    steps.append(previous[steps[-1]])
                return steps[::-1]
            queue.append(following)
    raise BadRequest(f"A realtime session cannot move from {current!r} to {target!r}", code="invalid_state_transition")


def is_terminal(state: str) -> bool:
    """Whether nothing can follow this state."""
    return _known(state, "current") in TERMINAL_STATES
