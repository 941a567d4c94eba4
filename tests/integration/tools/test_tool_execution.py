"""Tool execution through the API: journal, policy, approval, idempotency, bookings, desk and evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.integrations import demo_store
from shared.tools import journal
from tests.support.concurrency import run_in_threads
from tests.support.identity import new_tenant_id
from tests.support.sessions import finalize_payload, key_headers, start_session

CLAIM = {
    "policyNumber": "HM-AU-4417209",
    "lossDate": "2026-11-27",
    "lossType": "auto_collision",
    "lossLocation": "Main St and 3rd Ave, Springfield, IL",
    "description": "Rear-ended at a light; my apiKey is sk-abcdefghijklmnopqrstuvwx1234",
    "injuriesReported": False,
}


def execute(client, session, tool, parameters, **extra):
    body = {"toolName": tool, "parameters": parameters, "sessionId": session["sessionId"], **extra}
    return client.post("/api/tools/execute", json=body, headers=key_headers(session))


def operator_session(client, tokens, prefix="tool"):
    tenant = new_tenant_id(prefix)
    operator = tokens.headers(tenant, "operator")
    return tenant, operator, start_session(client, headers=operator)


def test_a_demo_call_runs_tools_that_show_in_the_desk_the_results_and_the_evidence_pack(client, tokens, devhost):
    _tenant, operator, session = operator_session(client, tokens)
    created = execute(client, session, "create_fnol_claim", CLAIM)
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["success"] and body["runtime"]["status"] == "allowed" and body["idempotentReplay"] is False
    claim = body["result"]["claimNumber"]
    assert claim.startswith("CLM-") and body["retries"] == 0 and body["executionTime"] >= 0
    # The lookup finds what the first tool stored.
    status = execute(client, session, "check_claim_status", {"claimNumber": claim}).json()
    assert status["result"]["found"] is True and status["result"]["claims"][0]["reference"] == claim

    desk = client.get(f"/api/cp/sessions/{session['sessionId']}/tool-executions", headers=operator).json()
    assert [item["toolName"] for item in desk["persisted"]] == ["create_fnol_claim", "check_claim_status"]
    first = desk["persisted"][0]
    assert first["status"] == "succeeded" and first["inputPreview"]["description"] == "[redacted]"
    assert "sk-abcdefghijklmnop" not in created.text + str(desk)
    one = client.get(f"/api/cp/tools/executions/{body['executionId']}", headers=operator).json()
    assert one["source"] == "persisted" and one["execution"]["outputPreview"]["claimNumber"] == claim

    finalized = client.post(
        "/api/sessions/finalize",
        json=finalize_payload(sessionId=session["sessionId"], toolsUsed=[]),
        headers=key_headers(session),
    )
    assert finalized.status_code == 200, finalized.text
    results = client.get(f"/api/sessions/{session['sessionId']}/results", headers=key_headers(session)).json()
    assert results["results"]
    viewed = client.get(f"/api/cp/sessions/{session['sessionId']}", headers=operator).json()["session"]
    assert viewed["toolsUsed"] == ["create_fnol_claim", "check_claim_status"]
    pack = client.get(f"/api/sessions/{session['sessionId']}/evidence-packs", headers=key_headers(session)).json()
    calls = pack["bundle"]["toolCalls"]
    assert [(c["tool"], c["status"]) for c in calls] == [
        ("create_fnol_claim", "success"),
        ("check_claim_status", "success"),
    ]
    assert calls[0]["outputsPreview"]["claimNumber"] == claim
    devhost.drain_queues()
    feed = client.get("/api/cp/metrics/sessions/events", headers=operator).json()
    assert any(event.get("eventType") == "session.tool.invoked" for event in feed.get("events", [])), feed


def test_a_repeat_returns_the_first_result_without_running_again(client, tokens):
    _, _, session = operator_session(client, tokens)
    first = execute(
        client, session, "create_crm_lead", {"contactName": "Dana", "interest": "demo", "source": "web_demo"}
    )
    again = execute(
        client, session, "create_crm_lead", {"contactName": "Dana", "interest": "demo", "source": "web_demo"}
    )
    assert first.json()["executionId"] == again.json()["executionId"]
    assert again.json()["idempotentReplay"] is True and again.json()["result"] == first.json()["result"]
    records = demo_store.session_records(session["accessKey"].rsplit(".", 1)[1], session["sessionId"])
    assert len(records) == 1


def test_twenty_concurrent_identical_executions_run_once(devhost, tokens):
    from tests.support.client import ContractClient

    with ContractClient(devhost.asgi) as setup:
        _, _, session = operator_session(setup, tokens)
    answers: list[dict] = []
    params = {"contactName": "Ravi", "interest": "pilot", "source": "inbound_call"}

    def call() -> None:
        with ContractClient(devhost.asgi) as own:
            own.check_budget = False  # losers of the race read the journal while the winner runs
            response = execute(own, session, "create_crm_lead", params)
            assert response.status_code == 200, response.text
            answers.append(response.json())

    run_in_threads(call, [()] * 20)
    assert len(answers) == 20
    assert len({a["executionId"] for a in answers}) == 1
    assert sum(1 for a in answers if not a["idempotentReplay"]) == 1
    assert len({a["result"]["leadId"] for a in answers}) == 1
    tenant = session["accessKey"].rsplit(".", 1)[1]
    assert len(demo_store.session_records(tenant, session["sessionId"])) == 1
    assert journal.read(tenant, answers[0]["executionId"])["attempts"] == 1


def test_a_blocked_tool_is_refused_with_the_reason_and_journaled(client, tokens):
    _tenant, operator, session = operator_session(client, tokens)
    refused = execute(client, session, "process_card_payment", {"referenceId": "INV-1", "amount": 10})
    assert refused.status_code == 403
    body = refused.json()
    assert body["error"] == "Policy Denied" and "blocked" in body["message"]
    execution = client.get(f"/api/cp/tools/executions/{body['runtime']['executionId']}", headers=operator).json()
    assert execution["execution"]["status"] == "denied"
    # Another tenant's operator cannot see it.
    other = tokens.headers(new_tenant_id("other"), "operator")
    assert client.get(f"/api/cp/tools/executions/{body['runtime']['executionId']}", headers=other).status_code == 404


def test_an_opt_in_tool_runs_once_the_tenant_enables_it(client, tokens):
    tenant, _, session = operator_session(client, tokens)
    params = {"claimNumber": "CLM-1", "pickupLocation": "Airport", "startDate": "2026-12-01"}
    assert execute(client, session, "arrange_rental_vehicle", params).status_code == 403
    admin = tokens.headers(tenant, "admin")
    enabled = client.patch(
        f"/api/cp/tool-policy/tenants/{tenant}/overrides/arrange_rental_vehicle", json={"enabled": True}, headers=admin
    )
    assert enabled.status_code == 200, enabled.text
    ran = execute(client, session, "arrange_rental_vehicle", params)
    assert ran.status_code == 200 and ran.json()["success"], ran.text


def test_a_tool_needing_approval_waits_for_an_operator_on_the_desk(client, tokens, devhost):
    _tenant, operator, session = operator_session(client, tokens)
    params = {
        "policyNumber": "HM-AU-4417209",
        "changeType": "add_driver",
        "effectiveDate": "2027-01-01",
        "details": "Add Sam",
    }
    pending = execute(client, session, "request_policy_change", params)
    assert pending.status_code == 202, pending.text
    approval = pending.json()["result"]["approvalId"]
    assert execute(client, session, "request_policy_change", params).json()["result"]["deduped"] is True
    desk = client.get(f"/api/cp/sessions/exceptions/{approval}", headers=operator).json()["exception"]
    assert desk["errorType"] == "tool_approval_required" and desk["status"] == "open"
    acted = client.post(
        f"/api/cp/sessions/exceptions/{approval}/action", json={"action": "resolve", "notes": "ok"}, headers=operator
    )
    assert acted.status_code == 200, acted.text
    devhost.drain_queues()
    done = execute(client, session, "request_policy_change", params)
    assert done.status_code == 200 and done.json()["success"] and done.json()["idempotentReplay"], done.text
    assert done.json()["result"]["changeRequestId"].startswith("PCR-")
    item = client.get(f"/api/cp/tools/executions/{done.json()['executionId']}", headers=operator).json()["execution"]
    assert item["approval"]["decision"] == "approved" and item["approval"]["note"] == "ok"


def test_a_rejected_approval_never_runs(client, tokens, devhost):
    _, operator, session = operator_session(client, tokens)
    params = {"clientId": "C-1", "invoiceNumbers": ["INV-1"], "installments": 3, "firstPaymentDate": "2027-01-01"}
    pending = execute(client, session, "create_payment_plan_request", params)
    assert pending.status_code == 202, pending.text
    approval = pending.json()["result"]["approvalId"]
    client.post(f"/api/cp/sessions/exceptions/{approval}/action", json={"action": "ignore"}, headers=operator)
    devhost.drain_queues()
    assert execute(client, session, "create_payment_plan_request", params).status_code == 403


def test_bad_input_is_refused_before_anything_runs(client, tokens):
    _, operator, session = operator_session(client, tokens)
    unknown = execute(client, session, "no_such_tool", {})
    assert unknown.status_code == 400 and unknown.json()["error"] == "tool_not_found"
    invalid = execute(client, session, "create_fnol_claim", {"policyNumber": "X"})
    assert invalid.status_code == 400 and any("lossDate" in d for d in invalid.json()["details"])
    huge = execute(client, session, "log_call_summary", {"summary": "x" * 20_000, "disposition": "resolved"})
    assert huge.status_code == 413
    skip = execute(client, session, "log_call_summary", {"nonsense": 1}, skipValidation=True)
    assert skip.status_code == 403 and skip.json()["error"] == "Policy Denied"
    # An operator may skip validation.
    ran = client.post(
        "/api/tools/execute",
        json={
            "toolName": "log_call_summary",
            "parameters": {"summary": "s", "disposition": "x", "extra": 1},
            "skipValidation": True,
        },
        headers=operator,
    )
    assert ran.status_code == 200 and ran.json()["success"], ran.text
    assert client.post("/api/tools/execute", json={"toolName": "log_call_summary"}).status_code == 401


def test_a_connector_tool_says_when_no_connector_is_configured(client, tokens):
    _, _, session = operator_session(client, tokens)
    params = {
        "fullName": "Ana Ruiz",
        "dateOfBirth": "1990-04-02",
        "phone": "+15551234567",
        "reasonForVisit": "checkup",
        "isNewPatient": True,
    }
    answer = execute(client, session, "create_patient_intake", params)
    assert answer.status_code == 200 and answer.json()["success"] is False
    assert "No ehr connector is configured" in answer.json()["error"]
    assert answer.json()["runtime"]["status"] == "failed"


def test_a_booking_tool_starts_the_booking_lifecycle_and_the_desk_drives_it(client, tokens):
    tenant, operator, session = operator_session(client, tokens)
    day = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    slots = execute(client, session, "check_availability", {"serviceType": "inspection", "dateFrom": day}).json()
    slot = slots["result"]["slots"][0]["slotId"]
    booked = execute(
        client, session, "schedule_appointment", {"slotId": slot, "serviceType": "inspection", "attendeeName": "Dana"}
    )
    assert booked.status_code == 200 and booked.json()["result"]["status"] == "confirmed", booked.text
    sid = session["sessionId"]
    evidence = client.get(f"/api/cp/sessions/{sid}/booking-workflow/evidence", headers=operator).json()
    assert [entry["eventType"] for entry in evidence["ledger"]] == ["select_slot", "confirm"]
    assert evidence["bookingOutcome"]["reminderStatus"] == "queued"
    signal = client.post(
        f"/api/cp/sessions/{sid}/booking-workflow/signal", json={"signal": "skipReminder"}, headers=operator
    )
    assert signal.status_code == 200 and signal.json()["workflowId"] == f"booking-{sid}", signal.text
    again = client.post(
        f"/api/cp/sessions/{sid}/booking-workflow/signal", json={"signal": "skipReminder"}, headers=operator
    )
    assert again.status_code == 400 and again.json()["error"] == "no_pending_reminder"
    moved = client.patch(
        f"/api/cp/sessions/{sid}/booking-lifecycle",
        json={"status": "cancelled", "notes": "caller asked"},
        headers=operator,
    )
    assert moved.status_code == 200, moved.text
    evidence = client.get(f"/api/cp/sessions/{sid}/booking-workflow/evidence", headers=operator).json()
    assert [entry["eventType"] for entry in evidence["ledger"]] == ["select_slot", "confirm", "skip_reminder", "cancel"]
    assert evidence["bookingOutcome"]["status"] == "cancelled"
    illegal = client.patch(
        f"/api/cp/sessions/{sid}/booking-lifecycle", json={"status": "no_show_followup"}, headers=operator
    )
    assert illegal.status_code == 400
    viewer = tokens.headers(tenant, "viewer")
    assert (
        client.patch(
            f"/api/cp/sessions/{sid}/booking-lifecycle", json={"status": "cancelled"}, headers=viewer
        ).status_code
        == 403
    )


def test_the_session_desk_lists_reads_and_prices_the_tenants_sessions(client, tokens):
    _tenant, operator, first = operator_session(client, tokens, "desk")
    second = start_session(client, headers=operator)
    listed = client.get("/api/cp/sessions?page=1&limit=1", headers=operator).json()
    assert listed["count"] == 2 and [s["id"] for s in listed["sessions"]] == [second["sessionId"]]
    page2 = client.get("/api/cp/sessions?page=2&limit=1", headers=operator).json()
    assert [s["id"] for s in page2["sessions"]] == [first["sessionId"]]
    assert client.get("/api/cp/sessions?limit=1000", headers=operator).status_code == 400
    cost = client.get(f"/api/cp/sessions/{first['sessionId']}/cost", headers=operator).json()
    assert cost == {"success": True, "cost": 0.0, "currency": "USD"}
    other = tokens.headers(new_tenant_id("desk"), "operator")
    for path in ("", "/cost", "/pdf", "/tool-executions", "/booking-workflow/evidence"):
        assert client.get(f"/api/cp/sessions/{first['sessionId']}{path}", headers=other).status_code == 404, path
    not_finished = client.get(f"/api/cp/sessions/{first['sessionId']}/pdf", headers=operator)
    assert not_finished.status_code == 404
    client.post(
        "/api/sessions/finalize", json=finalize_payload(sessionId=first["sessionId"]), headers=key_headers(first)
    )
    pdf = client.get(f"/api/cp/sessions/{first['sessionId']}/pdf", headers=operator)
    public = client.get(f"/api/sessions/{first['sessionId']}/pdf", headers=key_headers(first))
    assert pdf.status_code == 200 and pdf.content == public.content and pdf.content.startswith(b"%PDF")
