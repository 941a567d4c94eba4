"""The control catalog and the clock-computed status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.compliance import catalog
from shared.compliance import service as compliance
from shared.platform.ids import is_valid_id


def test_the_catalog_is_well_formed():
    controls = catalog.controls()
    ids = [c["id"] for c in controls]
    assert len(ids) == len(set(ids))
    assert {c["framework"] for c in controls} == set(catalog.FRAMEWORKS)
    for control in controls:
        assert is_valid_id(f"some-tenant-id-of-sixty-four-characters-0123456789abcdefghijklm:{control['id']}")
        assert ":" not in control["id"] and control["appliesTo"] in ("all", "healthcare")
        assert 1 <= control["dueDays"] <= 365 and control["control"] and control["description"]
    assert catalog.version()


def test_healthcare_tenants_get_hipaa_and_others_do_not():
    assert {c["framework"] for c in catalog.applicable("Healthcare ")} == {"HIPAA", "SOC2", "GDPR", "CCPA"}
    assert {c["framework"] for c in catalog.applicable("dental")} >= {"HIPAA"}
    for industry in (None, "legal", "", 7, "healthcare-adjacent"):
        assert "HIPAA" not in {c["framework"] for c in catalog.applicable(industry)}


def test_overdue_is_computed_from_due_at_by_the_clock():
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    item = compliance.new_item("acme", catalog.controls()[0], now)
    due = datetime.fromisoformat(item["dueAt"].replace("Z", "+00:00"))
    assert compliance.effective_status(item, due - timedelta(seconds=1)) == "pending"
    assert compliance.effective_status(item, due) == "overdue"
    assert compliance.effective_status({**item, "status": "attested"}, due + timedelta(days=9)) == "attested"
    assert (
        compliance.effective_status({**item, "status": "not_applicable"}, due + timedelta(days=9)) == "not_applicable"
    )


def test_seeding_adds_only_what_is_missing():
    held = [compliance.new_item("acme", c, datetime(2026, 1, 1, tzinfo=UTC)) for c in catalog.applicable(None)]
    assert compliance.missing_controls(None, held) == []
    missing = compliance.missing_controls("healthcare", held)
    assert missing and {c["framework"] for c in missing} == {"HIPAA"}
