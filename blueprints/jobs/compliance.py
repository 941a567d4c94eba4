"""Compliance: a daily timer that seeds every tenant's control items from the catalog."""

from __future__ import annotations

import azure.functions as func

from shared.platform.jobs import timer_job

bp = func.Blueprint()


@timer_job(bp, "0 15 4 * * *")
def seed_compliance_items() -> str:
    """04:15 UTC daily: create the catalog controls each tenant lacks (idempotent)."""
    from shared.compliance import service as compliance

    return f"{compliance.seed_all()} compliance item(s) seeded"
