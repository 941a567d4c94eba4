"""What each registry tool does when it runs.

Every tool of `shared/catalog/data/tools.json` has an entry in IMPLEMENTATIONS (a unit test holds the two
equal). The kinds:

* record — demo-tier tools that "update" a system (a claim, a CRM lead, a refill request, a payment
  link ...): the parameters are persisted once per idempotency key in the demo store (`demo_records`,
  provider `tellgence_tools`) and the answer carries the record's reference (`CLM-…`, `LEAD-…`), so
  results, lookups and evidence show what was stored;
* booking — a slot is booked for the session: `bookings.service.book` creates the session's booking
  (slot selected, then confirmed through the booking machine: ledger entry and reminder), so the
  lifecycle starts from the tool run; the hold is recorded like a record tool;
* connector — the tenant's connector of a kind runs the action (`create_patient_intake` → the EHR's
  create_patient, `book_sales_demo` → the calendar's create_event, then the booking); no connector →
  a failed execution saying so, never a pretend success;
* email — `send_email_summary` queues a real email on `emails`;
* lookup — read tools answer from what the tenant's tools recorded (a claim number, a policy, a pet, a
  contact), `found: false` when nothing matches;
* compute — answers computed from the inputs (availability slots, knowledge citations from the catalog,
  conflict checks against stored matters, CPAP adherence, veterinary triage urgency);
* not_configured — tools that need a system Tellgence has no client for yet (rate tables, identity
  verification, statute tables): the execution fails with `not_configured` and says what is missing.

A handler returns an Outcome; a store outage is a retryable failure, anything the inputs cause is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.platform import clock
from shared.platform.errors import ServiceError
from shared.platform.store.repository import Document

PROVIDER = "tellgence_tools"
SLOT_ID = re.compile(r"^slot-(\d{8})T(\d{4})Z-(\d{1,3})$")
SLOT_MINUTES = 30
BUSINESS_HOURS = (9, 17)


@dataclass
class ToolContext:
    """One run of one tool."""

    tool: dict[str, Any]
    tenant_id: str
    session_id: str | None
    session: Document | None
    params: dict[str, Any]
    idempotency_key: str
    execution_id: str
    actor: str


@dataclass
class Outcome:
    """What a run produced: a result, or an error with its class and whether trying again may help."""

    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None
    error_class: str | None = None
    retryable: bool = False
    session: Document | None = field(default=None, repr=False)


def _failed(error: str, error_class: str, *, retryable: bool = False) -> Outcome:
    return Outcome(False, None, error, error_class, retryable)


def _store_failure(exc: ServiceError) -> Outcome:
    retryable = exc.status >= 500
    return _failed(exc.message, "store_unavailable" if retryable else "rejected", retryable=retryable)


def reference(prefix: str, record_id: str) -> str:
    """A human reference of a stored record (e.g. CLM-3F09A1C2D4)."""
    return f"{prefix}-{record_id[:10].upper()}"


def _recorder(ctx: ToolContext) -> Any:
    from shared.integrations.demo_store import CosmosDemoRecorder

    return CosmosDemoRecorder(ctx.tenant_id, ctx.session_id)


def _record(ctx: ToolContext, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(
        _recorder(ctx).record(PROVIDER, ctx.tool["id"], params or ctx.params, idempotency_key=ctx.idempotency_key)
    )


# --- record ----------------------------------------------------------------------------------------------


def record_tool(prefix: str, field_name: str, summary: str) -> Callable[[ToolContext], Outcome]:
    """A tool whose effect is a stored record with a reference."""

    def run(ctx: ToolContext) -> Outcome:
        try:
            stored = _record(ctx)
        except ServiceError as exc:
            return _store_failure(exc)
        return Outcome(
            True,
            {
                field_name: reference(prefix, stored["id"]),
                "status": "recorded",
                "summary": summary,
                "recordedAt": stored.get("recordedAt"),
                "system": "tellgence demo store",
            },
        )

    return run


# --- booking ---------------------------------------------------------------------------------------------


def slot_start(slot_id: str) -> tuple[str, int] | None:
    """(start instant, minutes) of a slot id from check_availability, or None when it is not one."""
    match = SLOT_ID.fullmatch(slot_id or "")
    if not match:
        return None
    try:
        start = datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None
    return clock.iso(start), int(match.group(3))


def _book(ctx: ToolContext, start: str, minutes: int, slot_id: str) -> Outcome:
    from shared.bookings import service as bookings

    if ctx.session_id is None:
        return _failed("Booking needs the session the call belongs to (sessionId)", "rejected")
    if clock.parse_iso(start) <= clock.utc_now():
        return _failed("The slot has already started: choose a later one", "rejected")
    try:
        stored = _record(ctx)
        ref = reference("BKG", stored["id"])
        doc = bookings.book(
            ctx.session_id,
            ctx.tenant_id,
            scheduled_for=start,
            selected_suggestion_id=slot_id,
            reference_id=ref,
            actor=ctx.actor,
            note=f"booked by {ctx.tool['id']}",
            loaded=ctx.session,
        )
    except ServiceError as exc:
        if exc.status < 500:
            return _failed(exc.message, "rejected")
        return _store_failure(exc)
    outcome = doc.get("bookingOutcome") or {}
    return Outcome(
        True,
        {
            "bookingId": ref,
            "status": outcome.get("status"),
            "scheduledFor": outcome.get("scheduledFor"),
            "durationMinutes": minutes,
            "slotId": slot_id,
            "reminderStatus": outcome.get("reminderStatus"),
        },
        session=doc,
    )


def book_slot(ctx: ToolContext) -> Outcome:
    """schedule_appointment, book_vet_appointment, dental_recall_booking: book a slot from check_availability."""
    slot = slot_start(str(ctx.params.get("slotId", "")))
    if slot is None:
        return _failed("Unknown slotId: use a slotId that check_availability returned", "rejected")
    return _book(ctx, slot[0], slot[1], ctx.params["slotId"])


def reschedule(ctx: ToolContext) -> Outcome:
    """reschedule_appointment: the session's confirmed booking moves to a new slot (same machine and ledger)."""
    from shared.bookings import service as bookings

    slot = slot_start(str(ctx.params.get("newSlotId", "")))
    if slot is None:
        return _failed("Unknown newSlotId: use a slotId that check_availability returned", "rejected")
    if ctx.session_id is None:
        return _failed("Rescheduling needs the session the call belongs to (sessionId)", "rejected")
    try:
        doc = bookings.reschedule(
            ctx.session_id,
            ctx.tenant_id,
            scheduled_for=slot[0],
            selected_suggestion_id=ctx.params["newSlotId"],
            actor=ctx.actor,
            note=str(ctx.params.get("reason") or "rescheduled by reschedule_appointment"),
            loaded=ctx.session,
        )
        _record(ctx)
    except ServiceError as exc:
        if exc.status < 500:
            return _failed(exc.message, "rejected")
        return _store_failure(exc)
    outcome = doc.get("bookingOutcome") or {}
    return Outcome(
        True,
        {"appointmentId": ctx.params["appointmentId"], "status": outcome.get("status"), "scheduledFor": slot[0]},
        session=doc,
    )


# --- connector and email ---------------------------------------------------------------------------------


def _run_connector(ctx: ToolContext, kind: str, action: str, params: dict[str, Any]) -> tuple[Any, Outcome | None]:
    from shared.integrations import connectors

    try:
        result = connectors.run_action(
            ctx.tenant_id,
            kind,
            action,
            params,
            idempotency_key=f"tool:{ctx.execution_id}:{kind}",
            source="tool",
            session_id=ctx.session_id,
        )
    except connectors.NotConfigured:
        return None, _failed(f"No {kind} connector is configured for this practice: nothing was sent", "not_configured")
    except ServiceError as exc:
        if exc.status < 500:
            return None, _failed(exc.message, "rejected")
        return None, _store_failure(exc)
    if not result.ok:
        return None, _failed(result.summary, result.error_class or "provider_error", retryable=result.retryable)
    return result, None


def create_patient_intake(ctx: ToolContext) -> Outcome:
    """The patient goes to the practice's EHR connector (FHIR or the demo EHR)."""
    p = ctx.params
    patient = {"fullName": p["fullName"], "birthDate": p["dateOfBirth"], "phone": p["phone"]}
    if p.get("email"):
        patient["email"] = p["email"]
    result, failure = _run_connector(ctx, "ehr", "create_patient", patient)
    if failure:
        return failure
    try:
        _record(ctx)
    except ServiceError as exc:
        return _store_failure(exc)
    return Outcome(
        True,
        {
            "patientId": result.external_id,
            "providerId": result.provider_id,
            "status": "created",
            "summary": result.summary,
            "isNewPatient": p["isNewPatient"],
        },
    )


def book_sales_demo(ctx: ToolContext) -> Outcome:
    """The demo goes on the tenant's calendar connector, then becomes the session's booking."""
    p = ctx.params
    try:
        start = clock.parse_iso(p["slotStart"])
    except ValueError:
        return _failed("slotStart must be an ISO 8601 date-time with an offset", "rejected")
    minutes = int(p["durationMinutes"])
    event = {
        "subject": "Tellgence demo",
        "start": clock.iso(start),
        "end": clock.iso(start + timedelta(minutes=minutes)),
        "attendees": [
            {"email": p["contactEmail"]},
            *[{"email": a} for a in p.get("attendees") or [] if isinstance(a, str)][:19],
        ],
    }
    if p.get("agenda"):
        event["body"] = str(p["agenda"])[:4000]
    result, failure = _run_connector(ctx, "calendar", "create_event", event)
    if failure:
        return failure
    booked = _book(ctx, clock.iso(start), minutes, f"calendar:{result.external_id}")
    if booked.ok and booked.result is not None:
        booked.result["calendarEventId"] = result.external_id
    return booked


def send_email_summary(ctx: ToolContext) -> Outcome:
    """A real email on the `emails` queue (the configured provider sends it)."""
    from shared.email.models import EmailMessage
    from shared.email.service import enqueue_email

    p = ctx.params
    text = str(p["summary"])
    try:
        message = EmailMessage(
            to=[p["toEmail"]],
            subject=str(p["subject"])[:200],
            text=text,
            idempotency_key=f"tool:{ctx.execution_id}",
            correlation_id=ctx.session_id or ctx.execution_id,
            tags={"kind": "tool-email-summary"},
        )
        queued = enqueue_email(message, retries=0)
    except ServiceError as exc:
        return _failed(exc.message, "rejected")
    except ValueError as exc:
        return _failed(f"The email cannot be sent: {str(exc)[:200]}", "rejected")
    except Exception:  # the queue is down: another attempt may get through
        return _failed("The email queue is unavailable", "store_unavailable", retryable=True)
    return Outcome(True, {"status": "queued", "to": p["toEmail"], "queueMessageId": queued})


# --- lookups ---------------------------------------------------------------------------------------------


def _norm(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().lower()


def lookup_tool(
    sources: dict[str, str], keys: dict[str, tuple[str, ...]], *, found_as: str
) -> Callable[[ToolContext], Outcome]:
    """A read tool: the tenant's records of `sources` (tool → reference prefix) whose fields match the inputs.

    `keys` maps an input to the record fields it may equal (`@ref` is the record's reference).
    """

    def run(ctx: ToolContext) -> Outcome:
        from shared.integrations import demo_store

        wanted = {name: _norm(ctx.params[name]) for name in keys if ctx.params.get(name) not in (None, "")}
        if not wanted:
            return _failed("Give at least one of: " + ", ".join(keys), "rejected")
        try:
            records = demo_store.records_of(ctx.tenant_id, PROVIDER, sorted(sources))
        except ServiceError as exc:
            return _store_failure(exc)
        matches = []
        for record in records:
            params = record.get("params") or {}
            ref = reference(sources[record["actionId"]], record["id"])
            fields = {**params, "@ref": ref}
            if all(any(_norm(fields.get(f, "")) == value for f in keys[name]) for name, value in wanted.items()):
                matches.append(
                    {"reference": ref, "source": record["actionId"], "recordedAt": record.get("recordedAt"), **params}
                )
        return Outcome(True, {"found": bool(matches), found_as: matches[:5], "count": len(matches)})

    return run


# --- compute ---------------------------------------------------------------------------------------------


def check_availability(ctx: ToolContext) -> Outcome:
    """Open 30-minute slots in business hours (UTC) from dateFrom (not before now) to dateTo, at most 8."""
    p = ctx.params
    try:
        start = clock.parse_iso(p["dateFrom"] if "T" in p["dateFrom"] else p["dateFrom"] + "T00:00:00Z")
        end = (
            clock.parse_iso(p["dateTo"] if "T" in p["dateTo"] else p["dateTo"] + "T23:59:59Z")
            if p.get("dateTo")
            else start + timedelta(days=7)
        )
    except ValueError:
        return _failed("dateFrom and dateTo must be ISO 8601 dates", "rejected")
    now = clock.utc_now()
    cursor = max(start, now).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    wanted_hours = {"morning": range(9, 12), "afternoon": range(12, 17), "evening": range(16, 17)}.get(
        str(p.get("timeOfDay") or ""), range(*BUSINESS_HOURS)
    )
    slots = []
    while cursor < end and len(slots) < 8 and cursor < now + timedelta(days=90):
        if cursor.weekday() < 5 and cursor.hour in wanted_hours:
            slots.append(
                {
                    "slotId": f"slot-{cursor.strftime('%Y%m%dT%H%M')}Z-{SLOT_MINUTES}",
                    "start": clock.iso(cursor),
                    "end": clock.iso(cursor + timedelta(minutes=SLOT_MINUTES)),
                    "serviceType": p["serviceType"],
                }
            )
        cursor += timedelta(minutes=SLOT_MINUTES if cursor.hour in wanted_hours else 60)
    return Outcome(True, {"slots": slots, "count": len(slots), "timeZone": "UTC"})


def search_knowledge_base(ctx: ToolContext) -> Outcome:
    """The catalog's scenarios and tools whose text holds the query's words, as citations."""
    from shared.catalog import content

    words = [w for w in re.findall(r"[a-z0-9]{3,}", str(ctx.params["query"]).lower())][:20]
    limit = int(ctx.params.get("maxResults") or 5)
    hits = []
    for slug, scenario in content.scenarios().items():
        text = _norm(" ".join(str(scenario.get(k, "")) for k in ("title", "description", "companyName", "industry")))
        score = sum(text.count(w) for w in words)
        if score:
            hits.append((score, {"source": f"scenario:{slug}", "title": scenario.get("title", slug)}))
    for tool_id, tool in content.tools().items():
        score = sum(_norm(tool.get("description", "")).count(w) + tool_id.count(w) for w in words)
        if score:
            hits.append((score, {"source": f"tool:{tool_id}", "title": tool.get("description", "")[:200]}))
    hits.sort(key=lambda item: -item[0])
    citations = [hit for _, hit in hits[: max(1, min(limit, 10))]]
    return Outcome(
        True, {"citations": citations, "count": len(citations), "collection": ctx.params.get("collection") or "catalog"}
    )


def check_matter_conflicts(ctx: ToolContext) -> Outcome:
    """Stored matters where the prospective client is an adverse party, or an adverse party is a client."""
    from shared.integrations import demo_store

    client = _norm(ctx.params["prospectiveClientName"])
    adverse = {_norm(a) for a in ctx.params.get("adverseParties") or [] if isinstance(a, str)}
    try:
        matters = demo_store.records_of(ctx.tenant_id, PROVIDER, ["create_matter_intake"])
    except ServiceError as exc:
        return _store_failure(exc)
    conflicts = []
    for record in matters:
        params = record.get("params") or {}
        their_client = _norm(params.get("prospectiveClientName", ""))
        their_adverse = {_norm(a) for a in params.get("adverseParties") or [] if isinstance(a, str)}
        if client in their_adverse or their_client in adverse:
            conflicts.append(
                {"matterId": reference("MAT", record["id"]), "client": params.get("prospectiveClientName")}
            )
    return Outcome(
        True, {"conflictFound": bool(conflicts), "conflicts": conflicts[:10], "mattersChecked": len(matters)}
    )


def cpap_adherence_check(ctx: ToolContext) -> Outcome:
    """Adherence by the usual CMS rule (>= 4 h a night on >= 70 % of nights), recorded for the patient."""
    p = ctx.params
    nights = float(p["nightsUsed"])
    hours = float(p["averageHoursPerNight"])
    period = max(float(p.get("therapyDay") or 30), nights, 1.0)
    share = min(nights / min(period, 30.0), 1.0)
    adherent = hours >= 4 and share >= 0.7
    try:
        stored = _record(ctx)
    except ServiceError as exc:
        return _store_failure(exc)
    return Outcome(
        True,
        {
            "checkId": reference("CPAP", stored["id"]),
            "adherent": adherent,
            "nightsShare": round(share, 3),
            "averageHoursPerNight": hours,
            "followUp": "none" if adherent and not p["maskFitIssues"] else "clinician_outreach",
        },
    )


RED_FLAG_SIGNS = frozenset(
    {"collapse", "seizure", "bleeding", "difficulty_breathing", "not_breathing", "bloat", "toxin", "unconscious"}
)


def vet_triage_assessment(ctx: ToolContext) -> Outcome:
    """Urgency from red-flag signs, toxin exposure and onset, recorded for the visit."""
    p = ctx.params
    signs = {_norm(s).replace(" ", "_") for s in p.get("signs") or [] if isinstance(s, str)}
    emergency = bool(signs & RED_FLAG_SIGNS) or bool(p.get("toxinExposure"))
    onset = p.get("onsetHours")
    urgency = "emergency" if emergency else ("urgent" if isinstance(onset, int | float) and onset <= 24 else "routine")
    try:
        stored = _record(ctx)
    except ServiceError as exc:
        return _store_failure(exc)
    return Outcome(
        True,
        {"triageId": reference("TRI", stored["id"]), "urgency": urgency, "redFlags": sorted(signs & RED_FLAG_SIGNS)},
    )


def not_configured(what: str) -> Callable[[ToolContext], Outcome]:
    """A tool that needs a system Tellgence has no client for: it fails and says so."""

    def run(ctx: ToolContext) -> Outcome:
        return _failed(f"{what} is not configured for this practice: nothing was looked up", "not_configured")

    return run


IMPLEMENTATIONS: dict[str, tuple[str, Callable[[ToolContext], Outcome]]] = {
    "lookup_crm_contact": (
        "lookup",
        lookup_tool(
            {"create_crm_lead": "LEAD"},
            {"phone": ("phone",), "email": ("email",), "fullName": ("contactName",), "companyName": ("companyName",)},
            found_as="contacts",
        ),
    ),
    "create_crm_lead": ("record", record_tool("LEAD", "leadId", "Lead created in the CRM")),
    "qualify_lead": ("record", record_tool("QUAL", "qualificationId", "Lead qualification recorded")),
    "book_sales_demo": ("connector", book_sales_demo),
    "log_call_summary": ("record", record_tool("ACT", "activityId", "Call summary logged")),
    "check_availability": ("compute", check_availability),
    "schedule_appointment": ("booking", book_slot),
    "reschedule_appointment": ("booking", reschedule),
    "send_sms_confirmation": (
        "record",
        record_tool("SMS", "messageId", "Confirmation recorded; no SMS provider is connected, so no text was sent"),
    ),
    "send_email_summary": ("email", send_email_summary),
    "transfer_to_human": ("record", record_tool("HND", "handoffId", "Hand-off to a human recorded")),
    "create_callback_task": ("record", record_tool("TASK", "taskId", "Callback task created")),
    "escalate_clinical_concern": ("record", record_tool("ESC", "escalationId", "Clinical concern escalated")),
    "search_knowledge_base": ("compute", search_knowledge_base),
    "record_consent": ("record", record_tool("CNS", "consentId", "Consent recorded")),
    "verify_identity_kba": ("not_configured", not_configured("An identity verification provider")),
    "check_matter_conflicts": ("compute", check_matter_conflicts),
    "lookup_policy": (
        "lookup",
        lookup_tool(
            {"create_fnol_claim": "CLM", "request_policy_change": "PCR", "quote_coverage_estimate": "QTE"},
            {"policyNumber": ("policyNumber",)},
            found_as="records",
        ),
    ),
    "request_policy_change": ("record", record_tool("PCR", "changeRequestId", "Policy change requested")),
    "quote_coverage_estimate": ("not_configured", not_configured("A rating engine")),
    "create_fnol_claim": ("record", record_tool("CLM", "claimNumber", "First notice of loss filed")),
    "check_claim_status": (
        "lookup",
        lookup_tool(
            {"create_fnol_claim": "CLM"},
            {"claimNumber": ("@ref",), "policyNumber": ("policyNumber",)},
            found_as="claims",
        ),
    ),
    "schedule_vehicle_inspection": ("record", record_tool("INS", "inspectionId", "Vehicle inspection requested")),
    "arrange_rental_vehicle": ("record", record_tool("RNT", "reservationId", "Rental vehicle reserved")),
    "lookup_patient_record": (
        "lookup",
        lookup_tool(
            {"create_patient_intake": "PAT"},
            {"fullName": ("fullName",), "dateOfBirth": ("dateOfBirth",)},
            found_as="patients",
        ),
    ),
    "create_patient_intake": ("connector", create_patient_intake),
    "verify_insurance_eligibility": (
        "lookup",
        lookup_tool(
            {"create_patient_intake": "PAT"},
            {"memberId": ("memberId",), "carrier": ("insuranceCarrier",)},
            found_as="coverage",
        ),
    ),
    "request_prescription_refill": (
        "record",
        record_tool("RX", "refillRequestId", "Refill request sent to the clinician"),
    ),
    "cpap_adherence_check": ("compute", cpap_adherence_check),
    "order_dme_supplies": ("record", record_tool("DME", "orderId", "Supply order placed")),
    "dental_recall_booking": ("booking", book_slot),
    "estimate_treatment_cost": ("not_configured", not_configured("A fee schedule")),
    "lookup_pet_record": (
        "lookup",
        lookup_tool(
            {"book_vet_appointment": "BKG"},
            {"ownerPhone": ("ownerPhone",), "petName": ("petName",)},
            found_as="pets",
        ),
    ),
    "book_vet_appointment": ("booking", book_slot),
    "check_vaccination_status": ("not_configured", not_configured("A vaccination record system")),
    "vet_triage_assessment": ("compute", vet_triage_assessment),
    "create_matter_intake": ("record", record_tool("MAT", "matterId", "Matter intake created")),
    "calculate_limitations_deadline": ("not_configured", not_configured("A statute of limitations table")),
    "send_engagement_letter": ("record", record_tool("ENG", "letterId", "Engagement letter issued")),
    "collect_documents_request": ("record", record_tool("DOC", "requestId", "Document request issued")),
    "lookup_client_engagement": (
        "lookup",
        lookup_tool(
            {"create_matter_intake": "MAT", "payment_reminder": "PRM", "create_payment_plan_request": "PLN"},
            {"clientName": ("prospectiveClientName",), "clientId": ("clientId",)},
            found_as="engagements",
        ),
    ),
    "check_filing_status": (
        "lookup",
        lookup_tool(
            {"collect_documents_request": "DOC", "payment_reminder": "PRM"},
            {"clientId": ("referenceId", "clientId")},
            found_as="filings",
        ),
    ),
    "payment_reminder": ("record", record_tool("PRM", "reminderId", "Payment reminder recorded")),
    "create_payment_plan_request": ("record", record_tool("PLN", "planRequestId", "Payment plan requested")),
    "review_recent_transactions": (
        "lookup",
        lookup_tool(
            {"dispute_card_transaction": "DSP", "report_lost_card": "LCD", "process_card_payment": "PMT"},
            {"accountLast4": ("cardLast4",)},
            found_as="transactions",
        ),
    ),
    "report_lost_card": ("record", record_tool("LCD", "caseId", "Card reported lost and blocked")),
    "dispute_card_transaction": ("record", record_tool("DSP", "disputeId", "Dispute opened")),
    "send_payment_link": ("record", record_tool("PAY", "paymentLinkId", "Payment link issued")),
    "process_card_payment": ("record", record_tool("PMT", "paymentId", "Card payment recorded")),
    "execute_funds_transfer": ("record", record_tool("TRF", "transferId", "Funds transfer recorded")),
}
