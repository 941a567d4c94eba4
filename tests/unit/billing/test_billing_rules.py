"""Billing rules without a store: invoice transitions, plan changes, month boundaries, minutes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.billing import service as billing
from shared.billing import usage
from shared.billing.models import BillingPatch
from shared.platform.errors import BadRequest

ALL = ("current", "overdue", "payment_failed")


def terms(status: str = "current", plan: str = "starter") -> dict:
    return {"invoiceStatus": status, "plan": plan}


@pytest.mark.parametrize("before", ALL)
@pytest.mark.parametrize("after", ALL)
def test_every_invoice_status_pair(before, after):
    allowed = before == after or after in billing.INVOICE_TRANSITIONS[before]
    if allowed:
        billing.check_change(terms(before), {"invoiceStatus": after})
    else:
        with pytest.raises(BadRequest):
            billing.check_change(terms(before), {"invoiceStatus": after})
    assert ("payment_failed", "overdue") not in {(b, a) for b in ALL for a in billing.INVOICE_TRANSITIONS[b]}


def test_a_plan_changes_only_while_the_invoice_is_current():
    billing.check_change(terms("current"), {"plan": "growth"})
    billing.check_change(terms("overdue"), {"plan": "growth", "invoiceStatus": "current"})
    with pytest.raises(BadRequest):
        billing.check_change(terms("overdue"), {"plan": "growth"})
    billing.check_change(terms("overdue", "growth"), {"plan": "growth"})  # not a change


def test_defaults_follow_the_directory_entry():
    entry = {"tenantId": "acme", "plan": "enterprise", "mrr": 1200, "firstSeenAt": "2026-11-01T00:00:00.000Z"}
    defaults = billing.default_terms(entry)
    assert (defaults["plan"], defaults["mrr"], defaults["minutesLimit"]) == ("enterprise", 1200, 10000)
    assert billing.default_terms({"tenantId": "x", "plan": "legacy"})["plan"] == "starter"


def test_months_and_minutes():
    moment = datetime(2026, 12, 17, 8, 30, tzinfo=UTC)
    assert usage.month_start(moment) == datetime(2026, 12, 1, tzinfo=UTC)
    assert usage.next_month_start(moment) == datetime(2027, 1, 1, tzinfo=UTC)
    assert usage.next_month_start(datetime(2026, 3, 31, tzinfo=UTC)) == datetime(2026, 4, 1, tzinfo=UTC)
    assert usage.minutes(335.5) == 5.59


def test_the_patch_model_refuses_rather_than_trims():
    for body in ({"mrr": 1e12}, {"minutesLimit": -1}, {"nextBillingAt": "1999-01-01T00:00:00Z"}, {"x": 1}):
        with pytest.raises(ValueError):
            BillingPatch.model_validate(body)
    assert BillingPatch.model_validate({"nextBillingAt": "2027-01-01T00:00:00+02:00"}).nextBillingAt == (
        "2026-12-31T22:00:00.000Z"
    )
