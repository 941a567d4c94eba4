"""Seed data for `python -m devhost dev`.

Domains register their seed functions in SEEDERS (e.g. `SEEDERS.append(seed_scenarios)` in a module the
dev command imports); each runs after provisioning, against the freshly created (empty) local stores,
and again whenever the in-memory Cosmos emulator is restarted. Seeders must be idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger("devhost.seed")


def seed_tool_policy() -> None:
    """Store every registry tool's default global rule."""
    from shared.toolpolicy.service import seed_rules

    seed_rules()


def seed_public_slos() -> None:
    """Compute the first public SLO snapshot now, instead of answering 503 until the 15-minute timer fires."""
    from shared.metrics.service import refresh_public_slos

    refresh_public_slos()


SEEDERS: list[Callable[[], None]] = [seed_tool_policy, seed_public_slos]


def run_seeders() -> int:
    """Run every registered seeder in order; returns how many ran."""
    for seeder in SEEDERS:
        logger.info("seeding: %s", getattr(seeder, "__qualname__", repr(seeder)))
        seeder()
    return len(SEEDERS)
