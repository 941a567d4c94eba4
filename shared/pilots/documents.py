"""Stored pilot documents and the contract's views of them (pure: no store, no clock)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The fields a PATCH may change, in the order the audit diff lists them.
EDITABLE_FIELDS = (
    "organizationName",
    "primaryContact",
    "verticalPack",
    "status",
    "successCriteria",
    "pilotStartDate",
    "pilotEndDate",
)
PILOT_FIELDS = ("pilotId", "tenantId", "sourceLeadId", *EDITABLE_FIELDS)
CONTACT_FIELDS = ("name", "email", "phone", "role")
NOTE_FIELDS = ("id", "authorUserId", "authorDisplayName", "body", "createdAt")
CONTRACT_FIELDS = (
    "setupFeeUsd",
    "monthlyFeeUsd",
    "signedAt",
    "paidAt",
    "convertedToAnnualAt",
    "annualAcvUsd",
    "contractRef",
)
ROI_FIELDS = (
    "laborHourlyRateUsd",
    "averageManualHandleTimeMinutes",
    "baselineCallsPerWeek",
    "baselineMissedCallRatePct",
    "appointmentValueUsd",
    "collectionRecoveryValueUsd",
    "noShowRecoveryValueUsd",
    "afterHoursCaptureMultiplier",
    "notes",
)
CURRENCY = "USD"


def present(values: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The named values that are given: not None and not a blank string."""
    kept = {}
    for name in names:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        kept[name] = value
    return kept


def contact(values: Mapping[str, Any]) -> dict[str, Any]:
    """A primary contact as stored: name and email, phone and role when given."""
    return present(values, CONTACT_FIELDS)


def note_view(note: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's note object."""
    return {name: note[name] for name in NOTE_FIELDS if note.get(name) is not None}


def pilot_view(pilot: Mapping[str, Any], notes: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The contract's pilot object of a stored pilot, with its notes (oldest first)."""
    view = {name: pilot[name] for name in PILOT_FIELDS if pilot.get(name) is not None}
    view["primaryContact"] = contact(pilot.get("primaryContact") or {})
    view["notes"] = [note_view(note) for note in notes]
    view["createdAt"] = pilot["createdAt"]
    view["updatedAt"] = pilot["updatedAt"]
    return view


def contract_view(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The contract's pilot contract object (currency is always USD), or None when none is stored."""
    if doc is None:
        return None
    return {
        "pilotId": doc["pilotId"],
        "tenantId": doc["tenantId"],
        **present(doc, CONTRACT_FIELDS),
        "currency": CURRENCY,
    }


def roi_view(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The contract's ROI assumptions object, or None when none is stored."""
    if doc is None:
        return None
    view = {"pilotId": doc["pilotId"], "tenantId": doc["tenantId"], **present(doc, ROI_FIELDS)}
    view["updatedAt"] = doc["updatedAt"]
    if doc.get("updatedByUserId"):
        view["updatedByUserId"] = doc["updatedByUserId"]
    return view
