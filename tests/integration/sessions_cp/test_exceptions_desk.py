"""The exceptions desk: every kind of exception lands there; resolve and ignore are audited and idempotent."""

from __future__ import annotations

from shared.audit.service import events as audit_events
from shared.bookings import service as bookings
from shared.exceptions import service as exceptions
from shared.sessions import aggregate
from tests.support.identity import new_tenant_id
from tests.support.sessions import key_headers, start_session


def operator_session(client, tokens, tenant: str) -> dict:
    return start_session(client, headers=tokens.headers(tenant, "operator"))


def desk(client, headers) -> list[dict]:
    response = client.get("/api/cp/sessions/exceptions", headers=headers)
    assert response.status_code == 200
    return response.json()["exceptions"]


def session_copies(client, session: dict) -> list[dict]:
    return client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session)).json()["bookingExceptions"]


def act(client, headers, exception_id: str, **body):
    return client.post(f"/api/cp/sessions/exceptions/{exception_id}/action", json=body, headers=headers)


def test_booking_tool_and_telephony_exceptions_land_on_the_desk(client, tokens):
    tenant = new_tenant_id("ex")
    session = operator_session(client, tokens, tenant)
    bookings.open_exception(session["sessionId"], tenant, "no_slot", "scheduling", "No slot", "Nothing free this week")
    exceptions.open_exception(
        tenant,
        session["sessionId"],
        category="tool",
        error_type="tool_execution_failed",
        title="CRM update failed",
        message="salesforce_mock: the demo store is unavailable",
    )
    exceptions.open_exception(
        tenant,
        session["sessionId"],
        category="telephony",
        error_type="telephony_call_failed",
        title="Outbound call failed",
        message="Twilio answered HTTP 401",
        connector_kind="telephony",
        provider_id="twilio_voice",
    )
    listed = desk(client, tokens.headers(tenant, "viewer"))
    assert [e["errorType"] for e in listed] == ["telephony_call_failed", "tool_execution_failed", "no_slot"]
    assert {e["sessionId"] for e in listed} == {session["sessionId"]}
    assert all(e["status"] == "open" for e in listed)
    # Only the booking exception belongs in the session's bookingExceptions (the contract's reason codes).
    (copy,) = session_copies(client, session)
    assert (copy["reasonCode"], copy["reasonGroup"], copy["status"]) == ("no_slot", "scheduling", "open")
    assert desk(client, tokens.headers(new_tenant_id("ex"), "viewer")) == []


def test_resolving_is_audited_synced_to_the_session_and_idempotent(client, tokens):
    tenant = new_tenant_id("ex")
    operator = tokens.headers(tenant, "operator")
    session = operator_session(client, tokens, tenant)
    bookings.open_exception(
        session["sessionId"], tenant, "customer_unresponsive", "customer_responsiveness", "No answer", "Call back"
    )
    (item,) = desk(client, operator)
    resolved = act(client, operator, item["id"], action="resolve", notes="Called back, booked for Friday")
    assert resolved.status_code == 200
    assert resolved.json()["exception"] == {
        **item,
        "status": "resolved",
        "resolutionNotes": "Called back, booked for Friday",
    }
    (copy,) = session_copies(client, session)
    assert (copy["status"], copy["resolutionNote"], copy["lastAction"]) == (
        "resolved",
        "Called back, booked for Friday",
        "mark_resolved",
    )
    assert "resolvedAt" in copy
    again = act(client, operator, item["id"], action="resolve", notes="something else")
    assert again.status_code == 200
    assert again.json()["exception"]["resolutionNotes"] == "Called back, booked for Friday"
    events = [e for e in audit_events.newest_for_tenant(tenant, 20) if e["action"].startswith("session_exception")]
    assert len(events) == 1
    assert events[0]["changes"]["status"] == {"from": "open", "to": "resolved"}
    assert events[0]["targetId"] == item["id"]
    other = act(client, operator, item["id"], action="ignore")
    assert (other.status_code, other.json()["error"]) == (400, "exception_closed")


def test_ignoring_reads_resolved_on_the_session(client, tokens):
    tenant = new_tenant_id("ex")
    operator = tokens.headers(tenant, "operator")
    session = operator_session(client, tokens, tenant)
    bookings.open_exception(session["sessionId"], tenant, "no_slot", "scheduling", "No slot", "Nothing free")
    (item,) = desk(client, operator)
    ignored = act(client, operator, item["id"], action="ignore", notes="Duplicate of another call")
    assert ignored.json()["exception"]["status"] == "ignored"
    (copy,) = session_copies(client, session)
    assert copy["status"] == "resolved"
    assert copy["resolutionNote"] == "Ignored by an operator: Duplicate of another call"
    assert (
        client.get(f"/api/cp/sessions/exceptions/{item['id']}", headers=operator).json()["exception"]["status"]
        == "ignored"
    )


def test_other_tenants_unknown_ids_and_lower_roles(client, tokens):
    tenant = new_tenant_id("ex")
    session = operator_session(client, tokens, tenant)
    bookings.open_exception(session["sessionId"], tenant, "no_slot", "scheduling", "No slot", "Nothing free")
    (item,) = desk(client, tokens.headers(tenant, "viewer"))
    stranger = tokens.headers(new_tenant_id("ex"), "operator")
    assert client.get(f"/api/cp/sessions/exceptions/{item['id']}", headers=stranger).status_code == 404
    assert act(client, stranger, item["id"], action="resolve").status_code == 404
    assert act(client, tokens.headers(tenant, "viewer"), item["id"], action="resolve").status_code == 403
    missing = client.get(f"/api/cp/sessions/exceptions/{'0' * 32}", headers=tokens.headers(tenant, "viewer"))
    assert (missing.status_code, missing.json()["error"]) == (404, "exception_not_found")
    bad = act(client, tokens.headers(tenant, "operator"), item["id"], action="escalate")
    assert bad.status_code == 400
    assert desk(client, tokens.headers(tenant, "viewer"))[0]["status"] == "open"


def test_a_session_keeps_a_bounded_number_of_copies(client, tokens):
    tenant = new_tenant_id("ex")
    session = operator_session(client, tokens, tenant)
    doc = aggregate.read_live(tenant, session["sessionId"])
    opened = [
        exceptions.build(
            tenant,
            session["sessionId"],
            category="booking",
            error_type="no_slot",
            reason_group="scheduling",
            title=f"No slot {n}",
            message="Nothing free",
        )
        for n in range(exceptions.MAX_SESSION_COPIES + 5)
    ]
    opened[0]["status"] = "resolved"
    exceptions.merge_copies(doc, opened)
    copies = doc["bookingExceptions"]
    assert len(copies) == exceptions.MAX_SESSION_COPIES
    assert opened[0]["id"] not in {c["id"] for c in copies}  # the closed one went first
