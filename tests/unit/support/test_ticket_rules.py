"""Support ticket rules without a store: the status walk, ticket ids, the critical-ticket email."""

from __future__ import annotations

import itertools

import pytest

from shared.platform.errors import BadRequest
from shared.platform.ids import tenant_prefix
from shared.support import service as support

STATUSES = ("open", "in_progress", "waiting_on_tenant", "resolved")


def test_the_desk_walks_forward_and_reopens():
    path = ["open", "in_progress", "waiting_on_tenant", "in_progress", "resolved", "open"]
    for current, target in itertools.pairwise(path):
        support.check_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("open", "waiting_on_tenant"),
        ("resolved", "in_progress"),
        ("resolved", "waiting_on_tenant"),
        ("in_progress", "open"),
    ],
)
def test_skips_and_backward_moves_are_refused(current, target):
    with pytest.raises(BadRequest):
        support.check_transition(current, target)


def test_every_status_can_reach_resolved_or_is_resolved():
    for status in STATUSES:
        assert status == "resolved" or "resolved" in support.TRANSITIONS[status]


def test_ticket_ids_name_their_tenant():
    assert tenant_prefix("acme-dental:0f3a") == "acme-dental"
    assert tenant_prefix("no-colon") is None and tenant_prefix(":x") is None and tenant_prefix("acme:") is None


def test_the_critical_email_is_plain_text_with_a_bounded_subject():
    doc = {
        "id": "acme:1",
        "tenantId": "acme",
        "subject": "<b>" + "s" * 300,
        "description": "line\n<script>x</script>",
        "submittedBy": "user_1",
        "status": "open",
        "createdAt": "2026-12-01T00:00:00.000Z",
        "updatedAt": "2026-12-01T00:00:00.000Z",
        "submitterEmail": "not an address",
    }
    message = support.critical_ticket_email(doc, "platform@tellgence.test")
    assert len(message.subject) <= 200 and message.subject.startswith("[critical] acme: <b>")
    assert message.html is None and "<script>x</script>" in message.text
    assert message.reply_to is None
