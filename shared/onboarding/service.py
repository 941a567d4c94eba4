"""Fast-start onboarding profiles: a practice's answers, its destinations, and the go-live checklist.

A profile (`onboarding_profiles`, partition = tenantId, id = `fsp_<24 hex>`) belongs to the caller's
tenant (from the token, never the body); admins write, operators read. Rules:

- **Answers.** The use case is the contract's enum; the persona must exist in the catalog and suit the
  use case (`USE_CASE_DOMAINS`); summary recipients are email addresses; the booking link and the
  webhook's base URL pass the SSRF guard; every string and list is bounded (`models.py`). An empty
  `bookingLink`, `escalationContact` or `notes`, or a webhook with an empty `baseUrl`, removes it.
- **The webhook secret** is sealed at rest like connector secrets (`webhookSecret`, AES-GCM envelope
  bound to `<tenant>/fastStartProfile/<profile>#webhookSecret`) and always answered as `********`.
  Left out or sent back masked, the stored secret is kept only while the base URL is unchanged.
- **Revisions.** Every change of the answers (create, PATCH) increments `revision`, answered as the
  `ETag` `"<revision>"`. A PATCH with `If-Match` (or a body `revision`) that is not the stored revision
  is a 409 and writes nothing; without one the patch applies to the latest profile. Test results, test
  calls and publications do not change the revision (an editor's If-Match survives them). Every change
  is audited with before and after, the secret redacted.
- **The checklist** is computed on every read from the stored facts, never stored: see `checklist`.
- **Test calls.** A session started with `onboardingProfileId` (an operator of the profile's tenant,
  `POST /api/sessions`) is tied to the profile and runs its published workflow; when it is finalized,
  the `onboarding-test-calls` queue records its outcome on the profile (`testCall`), the latest
  finished session winning. It passed when the call reached its goal (the metrics' `success`: a
  resolved, booked or qualified disposition, or every scripted beat without one).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from shared.audit import service as audit
from shared.onboarding.repository import OnboardingProfileRepository
from shared.platform import clock
from shared.platform.envelope import success
from shared.platform.errors import BadRequest, Conflict, NotFound, ServiceError, ValidationFailed
from shared.platform.store.repository import Document

if TYPE_CHECKING:
    from shared.onboarding.models import CreateProfileBody, PatchProfileBody, ProfileFields, WebhookBody
    from shared.platform.principal import Principal

logger = logging.getLogger("tellgence.onboarding")

MAX_PROFILES = 50
TARGET_TYPE = "fastStartProfile"
SECRET_FIELD = "webhookSecret"
# Which catalog persona domains answer for each use case of the contract.
USE_CASE_DOMAINS: dict[str, tuple[str, ...]] = {
    "insurance": ("insurance",),
    "sales": ("sales",),
    "healthcare": ("healthcare", "dental", "veterinary"),
    "legal": ("legal",),
}
REQUIRED_ANSWERS = ("companyName", "businessDescription", "primaryUseCase", "personaId", "greeting")
# Answers a client writes, in the order the audit and the view use.
ANSWER_FIELDS = (
    "companyName",
    "businessDescription",
    "primaryUseCase",
    "personaId",
    "greeting",
    "intakeFields",
    "summaryRecipients",
    "bookingLink",
    "escalationContact",
    "faqs",
    "webhook",
    SECRET_FIELD,
    "reviewedPersona",
    "notes",
)
# Answers removed by an empty string.
REMOVABLE = ("bookingLink", "escalationContact", "notes")
LIST_ANSWERS = ("intakeFields", "summaryRecipients", "faqs")
BOOKKEEPING = ("updatedAt", "updatedBy", "revision")
EMAIL_TEST_KIND = "onboarding-destination-test"
PROVIDER_EMAIL = "email"
PROVIDER_WEBHOOK = "signed_webhook"
DESTINATION_ACTION = "test_destination"

profiles = OnboardingProfileRepository()


class StaleProfile(Conflict):
    """The profile changed since the caller (or this request) read it."""

    code = "stale_profile"
    default_message = "The profile was changed by someone else; read it again and reapply your change"


# --- reading ------------------------------------------------------------------------------


def new_profile_id() -> str:
    """A fresh profile id (`fsp_` and 24 hex digits)."""
    return f"fsp_{uuid.uuid4().hex[:24]}"


def read_profile(tenant_id: str, profile_id: str) -> Document:
    """A tenant's profile; NotFound (`profile_not_found`) when it has none by that id."""
    doc = profiles.read_profile(tenant_id, profile_id)
    if doc is None:
        raise NotFound("Onboarding profile not found", code="profile_not_found")
    return doc


def etag(doc: Document) -> str:
    """The profile's ETag: its revision, quoted."""
    return f'"{int(doc.get("revision") or 1)}"'


def expected_revision(if_match: str | None, body_revision: int | None) -> int | None:
    """The revision a writer expects from If-Match (`"3"`, `W/"3"`) and/or a body `revision`; None when neither."""
    from_header = None
    if if_match is not None and if_match.strip() and if_match.strip() != "*":
        text = if_match.strip().removeprefix("W/").strip().strip('"')
        if not text.isdigit() or len(text) > 10:
            raise BadRequest('If-Match must be the profile\'s ETag, e.g. "3"', code="invalid_if_match")
        from_header = int(text)
    if from_header is not None and body_revision is not None and from_header != body_revision:
        raise BadRequest("If-Match and revision name different revisions", code="invalid_if_match")
    return from_header if from_header is not None else body_revision


def persona_problem(persona_id: Any, use_case: Any) -> str | None:
    """Why a persona cannot answer for a use case (None when it can)."""
    from shared.catalog import content

    persona = content.personas().get(persona_id) if isinstance(persona_id, str) else None
    if persona is None:
        return "personaId: no persona in the catalog has this id"
    domains = USE_CASE_DOMAINS.get(use_case or "", ())
    if persona.get("domain") not in domains:
        return f"personaId: the persona does not suit the {use_case} use case (it answers for {persona.get('domain')})"
    return None


def secret_context(tenant_id: str, profile_id: str) -> str:
    """The associated data the profile's webhook secret is sealed under."""
    return f"{tenant_id}/fastStartProfile/{profile_id}#{SECRET_FIELD}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def destination_fingerprint(doc: Document, kind: str) -> str | None:
    """What a destination test was run against; a changed destination has another fingerprint (None: not set)."""
    if kind == "email":
        recipients = doc.get("summaryRecipients") or []
        return _digest("email", *sorted(address.lower() for address in recipients)) if recipients else None
    webhook = doc.get("webhook") or {}
    sealed = doc.get(SECRET_FIELD) or {}
    if not webhook.get("baseUrl") or not sealed:
        return None
    return _digest("webhook", webhook["baseUrl"], webhook.get("headerName", ""), str(sealed.get("ct", "")))


def current_statuses(doc: Document) -> dict[str, dict[str, Any]]:
    """The stored destination tests that still describe the configured destinations (stale ones left out)."""
    stored = doc.get("destinationStatus") or {}
    out = {}
    for kind in ("email", "webhook"):
        status = stored.get(kind)
        if isinstance(status, dict) and status.get("fingerprint") == destination_fingerprint(doc, kind):
            out[kind] = {name: status[name] for name in ("kind", "ok", "checkedAt", "message")}
    return out


def test_call_passed(doc: Document) -> bool:
    """Whether the latest finished test call passed, on the workflow version that is published now."""
    test_call = doc.get("testCall") or {}
    return bool(test_call.get("passed")) and test_call.get("workflowVersion") == doc.get("publishedWorkflowVersion")


def checklist(doc: Document) -> dict[str, bool]:
    """The go-live checklist, from the stored facts only.

    - profileConfigured: the five required answers, a persona that suits the use case, at least one intake field;
    - destinationsConfigured: at least one summary recipient, and a webhook (if any) with a base URL and a secret;
    - destinationsTested: each configured destination's latest test succeeded, against its current settings;
    - personaReviewed: an admin said so (reset when the persona or the greeting changes);
    - testCallPassed: the latest finished session of this profile reached its goal on the published version;
    - readyForGoLive: all of the above, and a published workflow.
    """
    configured = all(doc.get(name) for name in REQUIRED_ANSWERS)
    configured = configured and persona_problem(doc.get("personaId"), doc.get("primaryUseCase")) is None
    configured = configured and bool(doc.get("intakeFields"))
    webhook = doc.get("webhook")
    destinations = bool(doc.get("summaryRecipients")) and (
        not webhook or (bool(webhook.get("baseUrl")) and bool(doc.get(SECRET_FIELD)))
    )
    statuses = current_statuses(doc)
    tested = (
        destinations
        and statuses.get("email", {}).get("ok") is True
        and (not webhook or statuses.get("webhook", {}).get("ok") is True)
    )
    reviewed = bool(doc.get("reviewedPersona"))
    call = test_call_passed(doc)
    ready = configured and destinations and tested and reviewed and call and bool(doc.get("publishedWorkflowVersion"))
    return {
        "profileConfigured": configured,
        "destinationsConfigured": destinations,
        "destinationsTested": tested,
        "personaReviewed": reviewed,
        "testCallPassed": call,
        "readyForGoLive": ready,
    }


def profile_view(doc: Document) -> dict[str, Any]:
    """The contract's profile object: the secret masked, the checklist and destination status computed."""
    from shared.platform.secrets import mask

    view: dict[str, Any] = {"id": doc["id"], "tenantId": doc["tenantId"]}
    for name in ANSWER_FIELDS:
        value = doc.get(name)
        if name == SECRET_FIELD or value is None:
            continue
        if name == "webhook":
            value = {**value, "secret": mask(doc.get(SECRET_FIELD))} if doc.get(SECRET_FIELD) else dict(value)
        view[name] = value
    for name in LIST_ANSWERS:
        view.setdefault(name, [])
    view["reviewedPersona"] = bool(doc.get("reviewedPersona"))
    view["testCallPassed"] = test_call_passed(doc)
    for name in ("workflowDraftId", "publishedWorkflowId", "publishedWorkflowVersion", "workflow"):
        if doc.get(name):
            view[name] = doc[name]
    view["createdAt"] = doc["createdAt"]
    view["updatedAt"] = doc["updatedAt"]
    view["checklist"] = checklist(doc)
    view["destinationStatus"] = current_statuses(doc)
    return view


def list_profiles(principal: Principal) -> dict[str, Any]:
    """The caller's tenant's profiles, newest first."""
    items = [profile_view(doc) for doc in profiles.for_tenant(principal.tenant_id, MAX_PROFILES)]
    return success(items=items, count=len(items))


def get_profile(principal: Principal, profile_id: str) -> tuple[dict[str, Any], str]:
    """One profile of the caller's tenant and its ETag."""
    doc = read_profile(principal.tenant_id, profile_id)
    return success(item=profile_view(doc)), etag(doc)


# --- writing ------------------------------------------------------------------------------


def _guarded_url(value: str, field: str) -> str:
    from shared.platform.outbound import check_destination

    try:
        return check_destination(value)
    except ServiceError as exc:
        raise ValidationFailed(f"{field}: {exc.message}", fields={"details": [f"{field}: {exc.message}"]}) from exc


def _webhook_fields(
    body: WebhookBody, current: Document | None, tenant_id: str, profile_id: str, problems: list[str]
) -> dict[str, Any]:
    from shared.platform.secrets import MASK, SecretUnreadable, decrypt_value, encrypt_value

    if body.baseUrl == "":
        return {"webhook": None, SECRET_FIELD: None}
    base_url = _guarded_url(body.baseUrl, "webhook.baseUrl")
    stored = (current or {}).get("webhook") or {}
    header = body.headerName or stored.get("headerName") or "X-Tellgence-Signature"
    sealed = (current or {}).get(SECRET_FIELD)
    context = secret_context(tenant_id, profile_id)
    if body.secret in (None, "", MASK):
        if not sealed:
            problems.append("webhook.secret: is required (16-512 characters)")
        elif stored.get("baseUrl") != base_url:
            problems.append("webhook.secret: enter it again, because baseUrl changed")
        return {"webhook": {"baseUrl": base_url, "headerName": header}, SECRET_FIELD: sealed}
    from shared.onboarding.models import MIN_SECRET

    if len(body.secret) < MIN_SECRET:
        problems.append(f"webhook.secret: must be at least {MIN_SECRET} characters")
        return {}
    if sealed:
        try:
            if decrypt_value(sealed, context=context) == body.secret:
                # The same secret again: keep its envelope, so nothing looks changed.
                return {"webhook": {"baseUrl": base_url, "headerName": header}, SECRET_FIELD: sealed}
        except SecretUnreadable:
            pass
    return {
        "webhook": {"baseUrl": base_url, "headerName": header},
        SECRET_FIELD: encrypt_value(body.secret, context=context),
    }


def _answers(body: ProfileFields, current: Document | None, tenant_id: str, profile_id: str) -> dict[str, Any]:
    """The stored form of the answers the body sets (None removes one); 400 naming every problem."""
    problems: list[str] = []
    sent = body.model_fields_set - {"testCallPassed", "revision"}
    fields: dict[str, Any] = {}
    for name in sent:
        value = getattr(body, name)
        if name == "webhook":
            fields.update(_webhook_fields(value, current, tenant_id, profile_id, problems))
        elif name == "faqs":
            fields[name] = [faq.model_dump() for faq in value]
        elif name in REMOVABLE and value == "":
            fields[name] = None
        elif name == "bookingLink":
            fields[name] = _guarded_url(value, "bookingLink")
        else:
            fields[name] = value
    merged = {**(current or {}), **fields}
    problem = persona_problem(merged.get("personaId"), merged.get("primaryUseCase"))
    if problem and ({"personaId", "primaryUseCase"} & sent or current is None):
        problems.append(problem)
    if problems:
        raise ValidationFailed("; ".join(problems), code="invalid_profile", fields={"details": problems})
    # A review covers the persona and greeting it saw.
    reviewed_changed = any(
        name in fields and fields[name] != (current or {}).get(name) for name in ("personaId", "greeting")
    )
    if current is not None and "reviewedPersona" not in sent and reviewed_changed:
        fields["reviewedPersona"] = False
    return fields


def _audit_value(name: str, value: Any) -> Any:
    return audit.REDACTED if name == SECRET_FIELD and value else value


def create_profile(principal: Principal, body: CreateProfileBody, *, ip: str | None) -> tuple[dict[str, Any], str]:
    """Store a new profile in the caller's tenant (audited); answers the 201 body and its ETag."""
    tenant_id = principal.tenant_id
    profile_id = new_profile_id()
    fields = _answers(body, None, tenant_id, profile_id)
    if profiles.count_for_tenant(tenant_id) >= MAX_PROFILES:
        raise BadRequest(f"A practice has at most {MAX_PROFILES} fast-start profiles", code="too_many_profiles")
    now = clock.now_iso()
    doc: Document = {
        "id": profile_id,
        "tenantId": tenant_id,
        **{name: value for name, value in fields.items() if value is not None},
        "reviewedPersona": bool(fields.get("reviewedPersona")),
        "destinationStatus": {},
        "revision": 1,
        "createdAt": now,
        "createdBy": principal.user_id,
        "updatedAt": now,
        "updatedBy": principal.user_id,
    }
    stored = profiles.create(doc)
    changes = {
        name: {"from": None, "to": _audit_value(name, doc[name])} for name in ANSWER_FIELDS if doc.get(name) is not None
    }
    audit.record(
        principal,
        "onboarding.profile_created",
        target_type=TARGET_TYPE,
        target_id=profile_id,
        tenant_id=tenant_id,
        changes=changes,
        ip=ip,
    )
    return success(item=profile_view(stored)), etag(stored)


def update_profile(
    principal: Principal, profile_id: str, body: PatchProfileBody, *, if_match: str | None, ip: str | None
) -> tuple[dict[str, Any], str]:
    """Apply a partial update (ETag-safe, audited with the secret redacted); answers the profile and its ETag."""
    tenant_id = principal.tenant_id
    expected = expected_revision(if_match, body.revision)
    doc = read_profile(tenant_id, profile_id)
    for _ in range(5):
        revision = int(doc.get("revision") or 1)
        if expected is not None and expected != revision:
            raise StaleProfile()
        fields = _answers(body, doc, tenant_id, profile_id)
        changed = {name: value for name, value in fields.items() if doc.get(name) != value}
        if not changed:
            return success(item=profile_view(doc)), etag(doc)
        changed.update(revision=revision + 1, updatedAt=clock.now_iso(), updatedBy=principal.user_id)

        def same_revision(current: Document, seen: int = revision) -> None:
            if int(current.get("revision") or 1) != seen:
                raise StaleProfile()

        try:
            after = audit.update_audited(
                profiles,
                profile_id,
                tenant_id,
                changed,
                actor=principal,
                action="onboarding.profile_updated",
                target_type=TARGET_TYPE,
                tenant_id=tenant_id,
                ip=ip,
                redacted=(SECRET_FIELD,),
                what="Onboarding profile",
                loaded=doc,
                precondition=same_revision,
                ignored=BOOKKEEPING,
            )
        except StaleProfile:
            if expected is not None:
                raise
            # Someone else changed the answers meanwhile: recompute this patch on their version.
            doc = read_profile(tenant_id, profile_id)
            continue
        return success(item=profile_view(after)), etag(after)
    raise Conflict("The profile is being changed by others; try again", code="write_conflict")


# --- destination tests --------------------------------------------------------------------


def _test_email(doc: Document) -> dict[str, Any]:
    from shared.email.models import EmailMessage
    from shared.email.service import enqueue_email
    from shared.platform.settings import get_settings

    recipients = doc.get("summaryRecipients") or []
    provider = get_settings().email_provider
    started = time.perf_counter()
    if not provider:
        return {
            "ok": False,
            "message": "Email is not configured on this platform (EMAIL_PROVIDER)",
            "error": "configuration",
        }
    company = str(doc.get("companyName", ""))
    subject = f"Tellgence test: session summaries for {company[:120]}"
    text = (
        f"This is a test from Tellgence for {company}.\n\n"
        "Session summaries of your voice agent will be sent to this address once you go live. "
        "Nothing needs to be done; if you did not expect this message, tell the person setting up Tellgence "
        "for your practice.\n"
    )
    message = EmailMessage(
        to=list(recipients),
        subject=subject,
        text=text,
        tags={"kind": EMAIL_TEST_KIND, "profile": doc["id"]},
        idempotency_key=f"onboarding-test:{doc['tenantId']}:{doc['id']}:{uuid.uuid4().hex[:12]}",
    )
    try:
        enqueue_email(message, retries=0)
    except ServiceError as exc:
        logger.warning("onboarding test email of profile %s not queued: %s", doc["id"], exc.code)
        return {
            "ok": False,
            "message": "The email queue did not take the test message; try again shortly",
            "error": "queue_unavailable",
            "latency": time.perf_counter() - started,
        }
    return {
        "ok": True,
        "message": f"Test email queued for delivery to {len(recipients)} recipient(s) via {provider}",
        "latency": time.perf_counter() - started,
    }


def send_webhook_event(doc: Document, event: str, data: dict[str, Any], key: str) -> dict[str, Any]:
    """POST one signed event to the profile's webhook (HMAC-SHA256 over "<timestamp>.<body>" in its header).

    SSRF guard, a connect timeout of at most 3 s and a total of CONNECTOR_TIMEOUT_SECONDS, no redirects.
    Answers the outcome (ok, a safe message, error class, HTTP status, latency); never raises for the provider.
    """
    from shared.integrations import catalog
    from shared.integrations.clients.base import CallContext, ProviderFailure, key_uuid, send
    from shared.platform.outbound import signed_headers
    from shared.platform.secrets import SecretUnreadable, decrypt_value
    from shared.platform.settings import get_settings

    webhook = doc.get("webhook") or {}
    if not webhook.get("baseUrl") or not doc.get(SECRET_FIELD):
        return {"ok": False, "message": "The profile has no webhook", "error": "configuration", "key": key}
    try:
        secret = decrypt_value(doc[SECRET_FIELD], context=secret_context(doc["tenantId"], doc["id"]))
    except SecretUnreadable:
        return {
            "ok": False,
            "message": "The stored webhook secret cannot be opened; enter it again",
            "error": "configuration",
            "key": key,
        }
    envelope = {"id": key_uuid(key), "event": event, "occurredAt": clock.now_iso(), "data": data}
    body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()
    headers = signed_headers(secret, body, key, signature_header=webhook.get("headerName") or "X-Tellgence-Signature")
    ctx = CallContext(
        provider=catalog.provider(PROVIDER_WEBHOOK),
        config={"url": webhook["baseUrl"], "signingSecret": secret},
        idempotency_key=key,
        timeout=get_settings().connector_timeout_seconds,
        first_sent_at=clock.utc_now(),
    )
    started = time.perf_counter()
    try:
        response = send(ctx, "POST", webhook["baseUrl"], headers=headers, content=body)
    except ProviderFailure as failure:
        return {
            "ok": False,
            "message": failure.message,
            "error": failure.error_class,
            "code": failure.response_code,
            "latency": time.perf_counter() - started,
            "key": key,
        }
    return {
        "ok": True,
        "message": f"The webhook accepted the signed {event} event (HTTP {response.status_code})",
        "code": response.status_code,
        "latency": time.perf_counter() - started,
        "key": key,
    }


def _test_webhook(doc: Document) -> dict[str, Any]:
    key = f"onboarding-test:{doc['id']}:{uuid.uuid4().hex[:12]}"
    data = {"profileId": doc["id"], "companyName": doc.get("companyName", ""), "test": True}
    return send_webhook_event(doc, "onboarding.destination_test", data, key)


def record_delivery(
    tenant_id: str,
    outcome: dict[str, Any],
    *,
    provider_id: str,
    action: str,
    source: str,
    connector_kind: str,
    session_id: str | None = None,
) -> None:
    """Log one destination delivery (a test or `send_webhook_event` outcome) in the integration activity log."""
    from shared.integrations import activity

    activity.record(
        tenant_id,
        provider_id=provider_id,
        action=action,
        source=source,
        ok=outcome["ok"],
        latency_ms=round(outcome.get("latency", 0) * 1000),
        error_class=outcome.get("error"),
        error_message=None if outcome["ok"] else outcome["message"],
        response_code=outcome.get("code"),
        idempotency_key=outcome.get("key"),
        session_id=session_id,
        connector_kind=connector_kind,
    )


def test_destination(principal: Principal, profile_id: str, kind: str) -> dict[str, Any]:
    """Send a real test to one destination; the outcome (success or failure) is stored and logged, a 200 either way."""
    tenant_id = principal.tenant_id
    doc = read_profile(tenant_id, profile_id)
    fingerprint = destination_fingerprint(doc, kind)
    if fingerprint is None:
        what = "summary recipients" if kind == "email" else "a webhook with a base URL and a secret"
        raise BadRequest(f"The profile has no {what} to test", code="destination_not_configured")
    outcome = _test_email(doc) if kind == "email" else _test_webhook(doc)
    checked_at = clock.now_iso()
    status = {
        "kind": kind,
        "ok": outcome["ok"],
        "checkedAt": checked_at,
        "message": outcome["message"],
        "fingerprint": fingerprint,
    }

    def store(current: Document) -> None:
        current.setdefault("destinationStatus", {})[kind] = status

    profiles.update(profile_id, tenant_id, store, what="Onboarding profile", loaded=doc)
    record_delivery(
        tenant_id,
        outcome,
        provider_id=PROVIDER_EMAIL if kind == "email" else PROVIDER_WEBHOOK,
        action=DESTINATION_ACTION,
        source="onboarding",
        connector_kind=kind,
    )
    logger.info("onboarding destination test %s of profile %s: ok=%s", kind, profile_id, outcome["ok"])
    result = {name: status[name] for name in ("kind", "ok", "checkedAt", "message")}
    return success(result={**result, "profileId": profile_id})


# --- other domains: the persona runtime, sessions and workflows ---------------------------


def runtime_profile(tenant_id: str, profile_id: str) -> Document:
    """The profile the persona runtime applies, with its published workflow described for the instructions."""
    from shared.workflow_graphs import graph

    doc = read_profile(tenant_id, profile_id)
    published = published_workflow(doc)
    if published is None:
        return doc
    description = graph.describe(published["graph"], workflow_id=published["id"], version=published["version"])
    return {**doc, "publishedWorkflowDescription": description}


def published_workflow(doc: Document) -> dict[str, Any] | None:
    """The profile's published workflow: id, version, graph and the call's steps (None before the first publish)."""
    from shared.workflow_graphs import graph

    version = doc.get("publishedWorkflowVersion")
    if not version or not doc.get("workflow"):
        return None
    return {
        "id": doc["publishedWorkflowId"],
        "version": int(version),
        "definitionId": f"{doc['id']}/published/v{int(version)}",
        "graph": doc["workflow"],
        "steps": graph.steps(doc["workflow"]),
    }


def session_binding(tenant_id: str, profile_id: str) -> dict[str, Any]:
    """What a session started for a profile takes from it: the persona and the published workflow.

    The profile must be the tenant's (400 `unknown_onboarding_profile` otherwise: createSession documents no 404).
    """
    doc = profiles.read_profile(tenant_id, profile_id)
    if doc is None:
        raise BadRequest("No onboarding profile of this practice has this id", code="unknown_onboarding_profile")
    return {"profileId": profile_id, "personaId": doc.get("personaId"), "workflow": published_workflow(doc)}


def on_session_finalized(session: Document, extracted: dict[str, Any], created: bool) -> None:
    """Subscriber of `session.finalized`: a profile's test call records its outcome."""
    note_finished_session(session)


def note_finished_session(session: Document) -> None:
    """Queue the test-call record of a finalized session tied to a profile (no store call; never raises)."""
    from shared.platform.store import queues
    from shared.platform.store.registry import ONBOARDING_TEST_CALLS_QUEUE

    profile_id = session.get("onboardingProfileId")
    if not profile_id:
        return
    message = {"tenantId": session["tenantId"], "profileId": profile_id, "sessionId": session["id"]}
    try:
        queues.enqueue(ONBOARDING_TEST_CALLS_QUEUE, message, retries=1)
    except Exception:  # the call is stored; a lost record only delays the checklist until the next test call
        logger.exception("could not queue the test call of session %s for profile %s", session["id"], profile_id)


def record_test_call(tenant_id: str, profile_id: str, session_id: str) -> str:
    """Record a finalized session of the profile as its latest test call (the onboarding-test-calls job)."""
    from shared.metrics.models import classify_outcome
    from shared.sessions import aggregate

    session = aggregate.read_live(tenant_id, session_id)
    if session.get("onboardingProfileId") != profile_id:
        raise BadRequest("The session was not started for this profile", code="session_profile_mismatch")
    finished_at = session.get("finalizedAt")
    if not finished_at:
        raise NotFound("The session is not finalized")
    summary = session.get("interactionSummary") or {}
    outcome = classify_outcome(
        summary.get("disposition"), session.get("beatsCompleted", 0), session.get("totalBeats", 0)
    )
    record = {
        "sessionId": session_id,
        "finishedAt": finished_at,
        "outcome": outcome,
        "passed": outcome == "success",
        "workflowVersion": session.get("onboardingWorkflowVersion"),
        "recordedAt": clock.now_iso(),
    }

    def apply(doc: Document) -> None:
        previous = doc.get("testCall") or {}
        if previous.get("sessionId") != session_id and previous.get("finishedAt", "") > finished_at:
            return  # a later test call is already recorded
        doc["testCall"] = record

    profiles.update(profile_id, tenant_id, apply, what="Onboarding profile")
    return f"test call {session_id} of {profile_id}: {outcome}"


def profile_for_workflows(tenant_id: str, profile_id: str) -> Document:
    """The profile a workflow operation works on (404 `profile_not_found`)."""
    return read_profile(tenant_id, profile_id)


def record_draft(tenant_id: str, profile_id: str, draft_id: str, *, loaded: Document) -> None:
    """Name the profile's workflow draft on the profile (once: the draft's id never changes)."""
    if loaded.get("workflowDraftId") == draft_id:
        return
    profiles.update(
        profile_id,
        tenant_id,
        lambda doc: doc.update(workflowDraftId=draft_id),
        what="Onboarding profile",
        loaded=loaded,
    )


def record_publication(
    tenant_id: str,
    profile_id: str,
    *,
    version: int,
    workflow_id: str,
    graph: dict[str, Any],
    content_hash: str,
    published_at: str,
    loaded: Document,
) -> Document:
    """Point the profile at a newly published version (only from the version before it: else 409)."""

    def apply(doc: Document) -> None:
        if int(doc.get("publishedWorkflowVersion") or 0) != version - 1:
            raise Conflict("Another publish of this workflow won the race; read it again", code="publish_conflict")
        doc.update(
            publishedWorkflowVersion=version,
            publishedWorkflowId=workflow_id,
            publishedWorkflowHash=content_hash,
            publishedAt=published_at,
            workflow=graph,
        )

    return profiles.update(profile_id, tenant_id, apply, what="Onboarding profile", loaded=loaded)
