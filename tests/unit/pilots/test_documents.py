"""The contract's views of stored pilot documents, and the request models' bounds."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.pilots import documents
from shared.pilots.models import AttestationBody, PilotCreateBody, PilotPatchBody, PilotRoiBody

STORED = {
    "id": "PILOT-ABCDEFGH",
    "pilotId": "PILOT-ABCDEFGH",
    "tenantId": "acme-dental",
    "type": "pilot",
    "organizationName": "Acme Dental",
    "primaryContact": {"name": "Avery", "email": "avery@acme.test", "phone": "", "internal": "x"},
    "verticalPack": "healthcare",
    "status": "active",
    "statusHistory": [{"from": None, "to": "active"}],
    "createdAt": "2026-03-01T00:00:00.000Z",
    "updatedAt": "2026-03-02T00:00:00.000Z",
    "_etag": '"e"',
}


def test_the_pilot_view_holds_only_the_contracts_fields():
    note = {"id": "note-1", "body": "hi", "createdAt": "2026-03-02T00:00:00.000Z", "pilotId": "x", "type": "pilotNote"}
    view = documents.pilot_view(STORED, [note])
    assert set(view) == {
        "pilotId",
        "tenantId",
        "organizationName",
        "primaryContact",
        "verticalPack",
        "status",
        "notes",
        "createdAt",
        "updatedAt",
    }
    assert view["primaryContact"] == {"name": "Avery", "email": "avery@acme.test"}
    assert view["notes"] == [{"id": "note-1", "body": "hi", "createdAt": "2026-03-02T00:00:00.000Z"}]


def test_contract_and_roi_views_say_usd_and_leave_out_what_was_not_given():
    assert documents.contract_view(None) is None and documents.roi_view(None) is None
    contract = {"pilotId": "P", "tenantId": "t", "setupFeeUsd": 0.0, "contractRef": " ", "version": 3, "type": "x"}
    assert documents.contract_view(contract) == {"pilotId": "P", "tenantId": "t", "setupFeeUsd": 0.0, "currency": "USD"}
    roi = {"pilotId": "P", "tenantId": "t", "laborHourlyRateUsd": 30.0, "averageManualHandleTimeMinutes": 5.0}
    assert documents.roi_view({**roi, "updatedAt": "u"}) == {**roi, "updatedAt": "u"}


@pytest.mark.parametrize(
    "body",
    [
        {"organizationName": "A", "primaryContact": {"name": "B", "email": "b@x.test"}, "verticalPack": "retail"},
        {"organizationName": "A\nB", "primaryContact": {"name": "B", "email": "b@x.test"}, "verticalPack": "legal"},
        {"organizationName": "A", "primaryContact": {"name": "B", "email": "nope"}, "verticalPack": "legal"},
        {"organizationName": "A", "primaryContact": {"name": "B" * 201, "email": "b@x.test"}, "verticalPack": "legal"},
    ],
)
def test_create_bodies_are_bounded(body):
    with pytest.raises(ValidationError):
        PilotCreateBody.model_validate(body)


def test_patches_refuse_nulls_unknown_fields_and_coercion():
    for bad in ({"status": None}, {"owner": "x"}, {"organizationName": 5}, {"status": "won"}):
        with pytest.raises(ValidationError):
            PilotPatchBody.model_validate(bad)
    assert PilotPatchBody.model_validate({"status": "setup"}).model_dump(exclude_unset=True) == {"status": "setup"}


def test_roi_and_attestation_numbers_are_finite_and_bounded():
    with pytest.raises(ValidationError):
        PilotRoiBody.model_validate({"laborHourlyRateUsd": float("inf"), "averageManualHandleTimeMinutes": 1})
    with pytest.raises(ValidationError):
        PilotRoiBody.model_validate({"laborHourlyRateUsd": 1, "averageManualHandleTimeMinutes": 1441})
    base = {"pilotId": "PILOT-ABCDEFGH", "weekId": "2026-W10", "attestedByEmail": "a@b.test"}
    for metrics in ({"x": 1e13}, {f"m{i}": 1 for i in range(33)}, {"a\u0000b": 1}, {"y" * 65: 1}):
        with pytest.raises(ValidationError):
            AttestationBody.model_validate({**base, "acceptedMetrics": metrics})
    assert AttestationBody.model_validate({**base, "acceptedMetrics": {"callsHandled": 4}}).acceptedMetrics == {
        "callsHandled": 4.0
    }
