"""One module per OpenAPI tag, each exposing `bp`, a func.Blueprint of thin HTTP adapters.

`BLUEPRINTS` names every module `function_app.py` registers: HTTP tags first, then the background
jobs. Each module is named here once; adding an operation to an existing tag changes nothing here.
"""

from __future__ import annotations

import importlib
from types import ModuleType

BLUEPRINTS: tuple[str, ...] = (
    "blueprints.health",
    "blueprints.meta",
    "blueprints.webhooks",
    "blueprints.session",
    "blueprints.sessions",
    "blueprints.scenarios",
    "blueprints.verticals",
    "blueprints.tools",
    "blueprints.cp_tools",
    "blueprints.cp_auth",
    "blueprints.cp_tenants",
    "blueprints.cp_audit_log",
    "blueprints.cp_scenarios",
    "blueprints.cp_verticals",
    "blueprints.cp_tool_policy",
    "blueprints.cp_channels",
    "blueprints.cp_feature_flags",
    "blueprints.cp_support",
    "blueprints.cp_billing_ops",
    "blueprints.cp_compliance",
    "blueprints.integrations",
    "blueprints.cp_sessions",
    "blueprints.cp_evidence",
    "blueprints.onboarding",
    "blueprints.workflows",
    "blueprints.internal",
    "blueprints.metrics",
    "blueprints.public",
    "blueprints.leads",
    "blueprints.contact",
    "blueprints.feedback",
    "blueprints.cp_leads",
    "blueprints.cp_pilots",
    "blueprints.attestations",
    "blueprints.cp_quality",
    "blueprints.jobs.bookings",
    "blueprints.jobs.emails",
    "blueprints.jobs.retention",
    "blueprints.jobs.operability",
    "blueprints.jobs.compliance",
    "blueprints.jobs.integrations",
    "blueprints.jobs.metrics",
    "blueprints.jobs.evidence",
    "blueprints.jobs.leads",
    "blueprints.jobs.workflows",
    "blueprints.jobs.tools",
    "blueprints.jobs.pilots",
    "blueprints.jobs.quality",
)


def modules() -> list[ModuleType]:
    """Every blueprint module, imported in the order above."""
    return [importlib.import_module(name) for name in BLUEPRINTS]
