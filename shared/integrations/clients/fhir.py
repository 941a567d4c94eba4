"""FHIR R4 REST client: conditional create and version-aware update of Patient and Appointment.

Idempotency: every resource we create carries an identifier {system: identifierSystem, value: the
delivery's idempotency key} and is POSTed with `If-None-Exist` on that identifier, so a retried
create finds the first one (200) instead of creating a second (201). Updates are read-modify-write
PUTs with `If-Match` on the version read; a concurrent change (409/412) is re-read once.
Auth: `Authorization: Bearer` with a static token, or a SMART Backend Services token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from shared.integrations.clients import oauth
from shared.integrations.clients.base import (
    CONFIGURATION,
    INVALID_RESPONSE,
    CallContext,
    Outcome,
    ProviderFailure,
    join_url,
    json_object,
    send,
    with_query,
)
from shared.platform import clock
from shared.platform.errors import ValidationFailed

FHIR_JSON = "application/fhir+json"
R4_PREFIX = "4.0"
MR_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}


def _auth(ctx: CallContext) -> dict[str, str]:
    config = ctx.config
    if config["authMode"] == "bearer":
        token = config["accessToken"]
    else:
        token = oauth.smart_backend_token(
            ctx,
            config["tokenUrl"],
            client_id=config["clientId"],
            private_key_pem=config["privateKey"],
            key_id=config["keyId"],
            scope=config["scope"],
        )
    return {"Authorization": f"Bearer {token}", "Accept": FHIR_JSON}


def _url(ctx: CallContext, *segments: str) -> str:
    return join_url(ctx.config["baseUrl"], "/".join(quote(s, safe="") for s in segments))


def _body(resource: dict[str, Any]) -> bytes:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode()


def health(ctx: CallContext) -> Outcome:
    """The server's CapabilityStatement must say FHIR 4.0.x, and an authorized Patient search must answer."""
    headers = _auth(ctx)
    statement = json_object(ctx, send(ctx, "GET", _url(ctx, "metadata"), headers=headers))
    if statement.get("resourceType") != "CapabilityStatement":
        raise ProviderFailure(INVALID_RESPONSE, f"{ctx.provider.name} /metadata is not a CapabilityStatement")
    version = str(statement.get("fhirVersion") or "")
    if not version.startswith(R4_PREFIX):
        raise ProviderFailure(CONFIGURATION, f"{ctx.provider.name} speaks FHIR {version or 'unknown'}, not R4 (4.0.x)")
    response = send(ctx, "GET", with_query(_url(ctx, "Patient"), {"_summary": "count"}), headers=headers)
    if json_object(ctx, response).get("resourceType") != "Bundle":
        raise ProviderFailure(INVALID_RESPONSE, f"{ctx.provider.name} Patient search did not return a Bundle")
    software = statement.get("software") if isinstance(statement.get("software"), dict) else {}
    return Outcome(
        summary=f"FHIR {version} server reachable; Patient search authorized",
        response_code=response.status_code,
        data={"fhirVersion": version, "software": str(software.get("name") or "")[:100]},
    )


def _name(full_name: str) -> dict[str, Any]:
    parts = full_name.split()
    name: dict[str, Any] = {"use": "official", "text": full_name, "family": parts[-1]}
    if len(parts) > 1:
        name["given"] = parts[:-1]
    return name


def _apply_patient(resource: dict[str, Any], params: dict[str, Any]) -> None:
    if "fullName" in params:
        resource["name"] = [_name(params["fullName"])]
    for key in ("birthDate", "gender"):
        if key in params:
            resource[key] = params[key]
    for system, key in (("phone", "phone"), ("email", "email")):
        if key in params:
            kept = [t for t in resource.get("telecom", []) if isinstance(t, dict) and t.get("system") != system]
            resource["telecom"] = [*kept, {"system": system, "value": params[key]}]


def _instant(value: str, name: str) -> str:
    try:
        return clock.iso(clock.parse_iso(value))
    except ValueError as exc:
        raise ValidationFailed(f"params.{name}: is not a valid date-time", code="invalid_params") from exc


def _times(params: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, str]:
    times = {k: _instant(params[k], k) for k in ("start", "end") if k in params}
    start = times.get("start") or (current or {}).get("start")
    end = times.get("end") or (current or {}).get("end")
    if start and end and clock.parse_iso(end) <= clock.parse_iso(start):
        raise ValidationFailed("params.end: must be after start", code="invalid_params")
    return times


def _resource_id(ctx: CallContext, response: Any, resource_type: str) -> tuple[str, str | None]:
    body: dict[str, Any] = {}
    if response.content:
        body = json_object(ctx, response)
    if body.get("resourceType") == resource_type and isinstance(body.get("id"), str):
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        return body["id"], meta.get("versionId")
    # Prefer: return=minimal servers answer with Location: [base]/Type/id/_history/vid.
    parts = response.headers.get("Location", "").rstrip("/").split("/")
    if resource_type in parts and parts.index(resource_type) + 1 < len(parts):
        at = parts.index(resource_type)
        version = parts[at + 3] if len(parts) > at + 3 and parts[at + 2] == "_history" else None
        return parts[at + 1], version
    raise ProviderFailure(INVALID_RESPONSE, f"{ctx.provider.name} did not say which {resource_type} it wrote")


def _conditional_create(ctx: CallContext, resource: dict[str, Any]) -> Outcome:
    resource_type = resource["resourceType"]
    system = ctx.config["identifierSystem"]
    headers = {
        **_auth(ctx),
        "Content-Type": FHIR_JSON,
        "If-None-Exist": urlencode({"identifier": f"{system}|{ctx.idempotency_key}"}),
        "Prefer": "return=representation",
    }
    response = send(ctx, "POST", _url(ctx, resource_type), headers=headers, content=_body(resource))
    resource_id, version = _resource_id(ctx, response, resource_type)
    created = response.status_code == 201
    verb = "created" if created else "already existed for this delivery"
    return Outcome(
        summary=f"{resource_type} {resource_id} {verb}",
        response_code=response.status_code,
        external_id=f"{resource_type}/{resource_id}",
        data={"resourceType": resource_type, "id": resource_id, "versionId": version, "created": created},
    )


def _update(
    ctx: CallContext, resource_type: str, resource_id: str, change: Callable[[dict[str, Any]], None]
) -> Outcome:
    url = _url(ctx, resource_type, resource_id)
    for attempt in (1, 2):
        headers = _auth(ctx)
        read = send(ctx, "GET", url, headers=headers)
        resource = json_object(ctx, read)
        if resource.get("resourceType") != resource_type:
            raise ProviderFailure(
                INVALID_RESPONSE, f"{ctx.provider.name} returned something other than a {resource_type}"
            )
        meta = resource.get("meta") if isinstance(resource.get("meta"), dict) else {}
        etag = read.headers.get("ETag") or (f'W/"{meta["versionId"]}"' if meta.get("versionId") else None)
        change(resource)
        put_headers = {**headers, "Content-Type": FHIR_JSON, "Prefer": "return=representation"}
        if etag:
            put_headers["If-Match"] = etag
        try:
            response = send(ctx, "PUT", url, headers=put_headers, content=_body(resource))
        except ProviderFailure as failure:
            if failure.response_code in (409, 412) and attempt == 1:
                continue  # someone changed it between our read and write: read again
            raise
        _, version = _resource_id(ctx, response, resource_type)
        return Outcome(
            summary=f"{resource_type} {resource_id} updated",
            response_code=response.status_code,
            external_id=f"{resource_type}/{resource_id}",
            data={"resourceType": resource_type, "id": resource_id, "versionId": version, "created": False},
        )
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def create_patient(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """POST Patient with If-None-Exist on the idempotency identifier."""
    identifiers: list[dict[str, Any]] = [{"system": ctx.config["identifierSystem"], "value": ctx.idempotency_key}]
    if "mrn" in params:
        identifiers.append({"use": "usual", "type": MR_TYPE, "value": params["mrn"]})
    resource: dict[str, Any] = {"resourceType": "Patient", "identifier": identifiers, "active": True}
    _apply_patient(resource, params)
    return _conditional_create(ctx, resource)


def update_patient(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """GET then PUT Patient/{id} with If-Match, changing only the given demographics."""
    return _update(ctx, "Patient", params["patientId"], lambda resource: _apply_patient(resource, params))


def create_appointment(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """POST Appointment (patient, optional practitioner and location as participants) with If-None-Exist."""
    times = _times(params)
    participants = [{"actor": {"reference": f"Patient/{params['patientId']}"}, "status": "accepted"}]
    for key, resource_type in (("practitionerId", "Practitioner"), ("locationId", "Location")):
        if key in params:
            participants.append({"actor": {"reference": f"{resource_type}/{params[key]}"}, "status": "accepted"})
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "identifier": [{"system": ctx.config["identifierSystem"], "value": ctx.idempotency_key}],
        "status": params.get("status", "booked"),
        "start": times["start"],
        "end": times["end"],
        "participant": participants,
    }
    if "description" in params:
        resource["description"] = params["description"]
    return _conditional_create(ctx, resource)


def update_appointment(ctx: CallContext, params: dict[str, Any]) -> Outcome:
    """GET then PUT Appointment/{id} with If-Match: status, time or cancellation reason."""

    def change(resource: dict[str, Any]) -> None:
        resource.update(_times(params, resource))
        if "status" in params:
            resource["status"] = params["status"]
        if "cancellationReason" in params:
            resource["cancelationReason"] = {"text": params["cancellationReason"]}  # FHIR R4 spelling

    return _update(ctx, "Appointment", params["appointmentId"], change)


ACTIONS = {
    "create_patient": create_patient,
    "update_patient": update_patient,
    "create_appointment": create_appointment,
    "update_appointment": update_appointment,
}
