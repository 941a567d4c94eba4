"""The job adapter: parse, run, and tell a bad message (poisoned at once) from a failure worth retrying."""

from __future__ import annotations

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage
from pydantic import BaseModel

from shared.platform import jobs
from shared.platform.errors import BadRequest, NotFound, ServiceUnavailable

bp = func.Blueprint()
seen: list = []


class Ping(BaseModel):
    name: str
    outcome: str = "ok"


@jobs.queue_job(bp, "pings", message=Ping)
def handle_ping(message: Ping) -> str:
    seen.append(message.name)
    if message.outcome == "gone":
        raise NotFound("the session is gone")
    if message.outcome == "refused":
        raise BadRequest("the booking cannot move", code="invalid_transition")
    if message.outcome == "down":
        raise ServiceUnavailable("the provider is down")
    if message.outcome == "bug":
        raise RuntimeError("bug")
    if message.outcome == "spent":
        raise jobs.GiveUp("3 attempt(s) failed")
    return "pinged"


@pytest.fixture
def poisoned(monkeypatch) -> list:
    sent: list = []
    monkeypatch.setattr(jobs, "_poison", lambda queue, raw, job, reason, cid: sent.append((queue, raw, reason)))
    seen.clear()
    return sent


def run(body: bytes) -> None:
    handle_ping(QueueMessage(id="m-12345678", body=body, dequeue_count=1))


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"nope": 1}', b'{"name": NaN}', b'{"name": 5}'])
def test_a_bad_message_is_poisoned_at_once_and_the_handler_never_runs(poisoned, body):
    run(body)
    assert seen == []
    assert [(queue, raw) for queue, raw, _ in poisoned] == [("pings", body)]


def test_a_refusal_of_the_message_itself_is_poisoned_and_a_vanished_target_skipped(poisoned):
    run(b'{"name": "a", "outcome": "refused"}')
    run(b'{"name": "b", "outcome": "gone"}')
    assert seen == ["a", "b"]
    assert len(poisoned) == 1 and "invalid_transition" in poisoned[0][2]


@pytest.mark.parametrize(("outcome", "error"), [("down", ServiceUnavailable), ("bug", RuntimeError)])
def test_failures_worth_retrying_are_raised_to_the_host(poisoned, outcome, error):
    with pytest.raises(error):
        run(b'{"name": "c", "outcome": "%s"}' % outcome.encode())
    assert poisoned == []


def test_a_good_message_runs_once(poisoned):
    run(b'{"name": "d"}')
    assert seen == ["d"] and poisoned == []
    assert jobs.JOB_NAMES["handle_ping"] == "queue:pings"


def test_a_handler_that_ran_its_own_retries_gives_up_to_the_poison_queue(poisoned):
    run(b'{"name": "e", "outcome": "spent"}')
    assert seen == ["e"]
    assert poisoned == [("pings", b'{"name": "e", "outcome": "spent"}', "3 attempt(s) failed")]
