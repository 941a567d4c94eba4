"""Exceptions on the session: only booking reason codes, ignored reads resolved, bounded copies."""

from __future__ import annotations

import pytest

from shared.exceptions import service as exceptions


def exception(**overrides):
    doc = exceptions.build(
        "t1",
        "s1",
        category=overrides.pop("category", "booking"),
        error_type=overrides.pop("error_type", "no_slot"),
        reason_group=overrides.pop("reason_group", "scheduling"),
        title="No slot",
        message="Nothing free",
        now="2026-12-01T10:00:00.000Z",
    )
    doc.update(overrides)
    return doc


def test_only_contract_reason_codes_are_copied_onto_the_session():
    assert exception()["onSession"] is True
    assert exception(category="tool", error_type="tool_execution_failed", reason_group=None)["onSession"] is False
    session: dict = {}
    exceptions.merge_copies(session, [exception(), exception(category="tool", error_type="tool_failed")])
    assert [c["reasonCode"] for c in session["bookingExceptions"]] == ["no_slot"]


def test_a_copy_is_the_contract_item():
    copy = exceptions.session_copy(exception(connectorKind="webhook", providerId="signed_webhook"))
    assert copy == {
        "id": copy["id"],
        "reasonCode": "no_slot",
        "reasonGroup": "scheduling",
        "status": "open",
        "title": "No slot",
        "message": "Nothing free",
        "sessionId": "s1",
        "tenantId": "t1",
        "createdAt": "2026-12-01T10:00:00.000Z",
        "updatedAt": "2026-12-01T10:00:00.000Z",
        "suggestedActions": ["assign_escalate", "mark_resolved"],
        "connectorKind": "webhook",
        "connectorProviderId": "signed_webhook",
    }


def test_an_ignored_exception_reads_resolved_with_a_note():
    copy = exceptions.session_copy(exception(status="ignored", resolutionNotes="dup", lastAction="mark_resolved"))
    assert (copy["status"], copy["resolutionNote"], copy["lastAction"]) == (
        "resolved",
        "Ignored by an operator: dup",
        "mark_resolved",
    )


def test_copies_replace_by_id():
    doc = exception()
    session: dict = {}
    exceptions.merge_copies(session, [doc])
    exceptions.merge_copies(session, [{**doc, "status": "resolved"}])
    assert [c["status"] for c in session["bookingExceptions"]] == ["resolved"]


def test_unknown_categories_and_actions_are_programming_errors():
    with pytest.raises(ValueError):
        exception(category="weather")
    with pytest.raises(ValueError):
        exceptions.build("t", "s", category="tool", error_type="x", title="t", message="m", suggested_actions=["pray"])
