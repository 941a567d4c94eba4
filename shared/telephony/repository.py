"""Persistence of the call directory: provider call id -> session (container `telephony_calls`, partition = id)."""

from __future__ import annotations

from shared.platform.store.repository import Repository


class CallRepository(Repository):
    """One item per provider call (id = Twilio CallSid, or ACS callConnectionId / serverCallId)."""

    container_name = "telephony_calls"
    doc_type = "telephonyCall"
