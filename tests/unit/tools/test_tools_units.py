"""Pure parts of tool execution and telephony: the implementation table, redaction, keys, event normalising."""

from __future__ import annotations

import pytest

from shared.bookings import service as bookings
from shared.bookings.machine import InvalidTransition
from shared.catalog import content
from shared.telephony import events
from shared.tools import journal
from shared.tools.implementations import IMPLEMENTATIONS, slot_start


def test_every_registry_tool_has_exactly_one_implementation():
    assert set(IMPLEMENTATIONS) == set(content.tools())


def test_previews_redact_secret_keys_and_secret_shaped_values():
    paths: list[str] = []
    shown = journal.redact({"apiKey": "abc12345", "note": "Bearer abcdefghijklmnop123", "name": "Dana"}, paths=paths)
    assert shown == {"apiKey": "[redacted]", "note": "[redacted]", "name": "Dana"}
    assert sorted(paths) == ["$.apiKey", "$.note"]
    assert journal.preview({"text": "x" * 9000})["text"].endswith("…")


def test_the_default_key_depends_on_tool_tenant_session_and_canonical_parameters():
    one = journal.default_key("t", "a", "s", {"x": 1, "y": 2}, None)
    assert one == journal.default_key("t", "a", "s", {"y": 2, "x": 1}, None)
    assert one != journal.default_key("t", "b", "s", {"x": 1, "y": 2}, None)
    assert one != journal.default_key("t", "a", "s", {"x": 1, "y": 2}, "business")
    execution = journal.execution_id("a", one)
    assert journal.execution_of_approval(journal.approval_id(execution)) == execution


def test_slot_ids_carry_their_start():
    assert slot_start("slot-20261203T1500Z-30") == ("2026-12-03T15:00:00.000Z", 30)
    assert slot_start("slot-20261340T1500Z-30") is None
    assert slot_start("tomorrow") is None


def test_an_operator_status_maps_to_the_machines_action():
    assert bookings.action_for_status("confirmed", "cancelled") == "cancel"
    assert bookings.action_for_status("confirmed", "reschedule_requested") == "request_reschedule"
    assert bookings.action_for_status("no_show_followup", "reschedule_requested") == "complete_no_show_recovery"
    assert bookings.action_for_status("slot_selected", "confirm") == "confirm"
    with pytest.raises(InvalidTransition, match="final"):
        bookings.action_for_status("cancelled", "confirmed")
    with pytest.raises(InvalidTransition, match="unknown booking status"):
        bookings.action_for_status("confirmed", "teleported")


def test_twilio_callbacks_are_normalised_with_their_dedupe_key():
    fields = {
        "CallSid": "CA1",
        "CallStatus": "ringing",
        "Direction": "inbound",
        "To": "+15550009999",
        "From": "+14155550000",
        "Timestamp": "Tue, 01 Dec 2026 10:00:01 +0000",
    }
    (event,) = events.parse(
        "&".join(f"{k}={v.replace('+', '%2B').replace(' ', '+')}" for k, v in fields.items()).encode(),
        "application/x-www-form-urlencoded",
        {},
        "2026-12-01T00:00:00.000Z",
    )
    assert (event.type, event.status, event.timestamp) == ("inbound_received", "ringing", "2026-12-01T10:00:01.000Z")
    assert event.to_number == "+15550009999" and event.dedupe_key.startswith("twilio:CA1:ringing:")
    failed = events.twilio({"CallSid": "CA1", "CallStatus": "failed"}, {}, "2026-12-01T00:00:00.000Z")
    assert failed.type == "provider_error"


def test_acs_events_are_normalised_and_malformed_ones_refused():
    failed = events.acs(
        {
            "id": "e1",
            "type": "Microsoft.Communication.CreateCallFailed",
            "data": {"callConnectionId": "c1", "resultInformation": {"code": 403, "message": "no"}},
        },
        0,
        "2026-12-01T00:00:00.000Z",
    )
    assert (failed.type, failed.meta["code"], failed.dedupe_key) == ("provider_error", 403, "acs:e1")
    with pytest.raises(events.UnreadableEvent):
        events.acs({"id": "e2", "type": "Other.Event", "data": {}}, 0, "2026-12-01T00:00:00.000Z")
    with pytest.raises(events.UnreadableEvent):
        events.parse(b"[]", "application/json", {}, "2026-12-01T00:00:00.000Z")
