"""Provider call events normalised to the contract's channel events (pure: no store, no clock).

Twilio voice status callbacks (form-encoded, or the same fields as a JSON object): `CallSid`,
`CallStatus` (queued, initiated, ringing, in-progress, completed, busy, failed, no-answer, canceled),
`Direction` (inbound, outbound-api, outbound-dial), `From`, `To`, `Timestamp` (RFC 2822),
`SequenceNumber`. The first event of an inbound call is `inbound_received`; completed, busy, no-answer
and canceled are `call_completed`; failed is `provider_error`; the rest `call_status`. Dedupe key:
CallSid + CallStatus + Timestamp (+ SequenceNumber).

Azure Communication Services Call Automation callbacks (a CloudEvent or a JSON array of them; Event Grid's
own schema, `eventType` / `eventTime`, is read too): `Microsoft.Communication.IncomingCall` is
`inbound_received`, `CallConnected` `call_status` connected, `CallDisconnected` `call_completed`, any
`…Failed` event `provider_error` (with its resultInformation), the rest `call_status`. The call id is
`data.callConnectionId` (the IncomingCall's `serverCallId`); the dedupe key is the event id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

MAX_EVENTS = 50
ACS_PREFIX = "Microsoft.Communication."
TWILIO_COMPLETED = frozenset({"completed", "busy", "no-answer", "canceled"})


class UnreadableEvent(ValueError):
    """A body that is neither a Twilio status callback nor ACS call events."""


@dataclass
class CallEvent:
    """One provider event, normalised."""

    provider_id: str
    call_id: str
    type: str
    status: str
    raw_status: str
    timestamp: str
    dedupe_key: str
    sequence: int = 0
    direction: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    session_hint: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def inbound(self) -> bool:
        """Whether this event announces a new inbound call."""
        return self.type == "inbound_received"

    def label(self) -> str:
        """A line for the UI."""
        names = {
            "inbound_received": "Inbound call received",
            "outbound_initiated": "Outbound call started",
            "call_status": f"Call {self.status}",
            "call_completed": f"Call ended ({self.status})",
            "provider_error": "Provider reported an error",
        }
        return names[self.type]


def _iso(moment: Any) -> str:
    from datetime import UTC

    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _instant(value: Any, received_at: str) -> str:
    """An event time as ISO 8601 UTC (ms, Z); the receipt time when the provider gave none or garbage."""
    from shared.platform import clock

    text = str(value or "").strip()
    if not text:
        return received_at
    try:
        return _iso(clock.parse_iso(text))
    except ValueError:
        pass
    try:
        return _iso(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return received_at


def _text(value: Any, limit: int = 128) -> str:
    return str(value or "").strip()[:limit]


def parse(raw: bytes, media_type: str, query: dict[str, str], received_at: str) -> list[CallEvent]:
    """Every event of one webhook body (at most MAX_EVENTS); UnreadableEvent when it is neither shape."""
    if media_type == "application/x-www-form-urlencoded":
        try:
            fields = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError) as exc:
            raise UnreadableEvent("The form body cannot be read") from exc
        return [twilio(fields, query, received_at)]
    from shared.platform.jsonbody import parse_json

    try:
        value = parse_json(raw)
    except Exception as exc:
        raise UnreadableEvent("The body is not valid JSON") from exc
    if isinstance(value, dict) and "CallSid" in value:
        return [twilio(value, query, received_at)]
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > MAX_EVENTS:
        raise UnreadableEvent(f"Send 1 to {MAX_EVENTS} events")
    return [acs(item, index, received_at) for index, item in enumerate(items)]


def twilio(fields: dict[str, Any], query: dict[str, str], received_at: str) -> CallEvent:
    """A Twilio voice status callback."""
    sid = _text(fields.get("CallSid"), 64)
    raw_status = _text(fields.get("CallStatus"), 40).lower()
    if not sid or not raw_status:
        raise UnreadableEvent("A Twilio status callback needs CallSid and CallStatus")
    direction = _text(fields.get("Direction"), 40).lower() or None
    timestamp = _instant(fields.get("Timestamp"), received_at)
    try:
        sequence = int(str(fields.get("SequenceNumber") or 0))
    except ValueError:
        sequence = 0
    if direction == "inbound" and raw_status in ("ringing", "in-progress", "initiated", "queued"):
        kind, status = "inbound_received", raw_status
    elif raw_status in TWILIO_COMPLETED:
        kind, status = "call_completed", raw_status
    elif raw_status == "failed":
        kind, status = "provider_error", "failed"
    else:
        kind, status = "call_status", raw_status
    meta: dict[str, Any] = {"direction": direction} if direction else {}
    if fields.get("CallDuration") not in (None, ""):
        meta["durationSeconds"] = _text(fields["CallDuration"], 12)
    return CallEvent(
        provider_id="twilio_voice",
        call_id=sid,
        type=kind,
        status=status,
        raw_status=raw_status,
        timestamp=timestamp,
        dedupe_key=f"twilio:{sid}:{raw_status}:{_text(fields.get('Timestamp'), 64)}:{sequence}",
        sequence=sequence,
        direction=direction,
        from_number=_text(fields.get("From"), 32) or None,
        to_number=_text(fields.get("To"), 32) or None,
        session_hint=_text(query.get("sessionId"), 64) or None,
        meta=meta,
    )


def _phone(party: Any) -> str | None:
    if isinstance(party, dict):
        number = party.get("phoneNumber")
        if isinstance(number, dict) and isinstance(number.get("value"), str):
            return number["value"][:32]
        raw = party.get("rawId")
        if isinstance(raw, str) and raw.startswith("4:"):
            return raw[2:34]
    return None


def acs(item: Any, index: int, received_at: str) -> CallEvent:
    """One ACS Call Automation (or Event Grid IncomingCall) event."""
    if not isinstance(item, dict):
        raise UnreadableEvent("ACS events are JSON objects")
    event_type = _text(item.get("type") or item.get("eventType"), 120)
    data = item.get("data")
    event_id = _text(item.get("id"), 128)
    if not event_type.startswith(ACS_PREFIX) or not isinstance(data, dict) or not event_id:
        raise UnreadableEvent("An ACS event needs id, a Microsoft.Communication type and data")
    name = event_type.removeprefix(ACS_PREFIX)
    call_id = _text(data.get("callConnectionId") or data.get("serverCallId"), 512)
    if not call_id:
        raise UnreadableEvent("An ACS event needs data.callConnectionId or data.serverCallId")
    meta: dict[str, Any] = {"event": name}
    if name == "IncomingCall":
        kind, status = "inbound_received", "ringing"
    elif name == "CallConnected":
        kind, status = "call_status", "connected"
    elif name == "CallDisconnected":
        kind, status = "call_completed", "completed"
    elif name.endswith("Failed"):
        kind, status = "provider_error", "failed"
        result = data.get("resultInformation")
        if isinstance(result, dict):
            for key in ("code", "subCode"):
                if isinstance(result.get(key), int | float) and not isinstance(result.get(key), bool):
                    meta[key] = result[key]
            if isinstance(result.get("message"), str):
                meta["message"] = result["message"][:300]
    else:
        kind, status = "call_status", name[:1].lower() + name[1:]
    context = data.get("operationContext")
    return CallEvent(
        provider_id="acs_call_automation",
        call_id=call_id,
        type=kind,
        status=status,
        raw_status=name,
        timestamp=_instant(item.get("time") or item.get("eventTime"), received_at),
        dedupe_key=f"acs:{event_id}",
        sequence=index,
        direction="inbound" if kind == "inbound_received" else None,
        from_number=_phone(data.get("from")),
        to_number=_phone(data.get("to")),
        session_hint=_text(context, 64) if isinstance(context, str) else None,
        meta=meta,
    )


def describe(event: CallEvent) -> str:
    """A log line without personal data."""
    return json.dumps({"provider": event.provider_id, "type": event.type, "status": event.status})
