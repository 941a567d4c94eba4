"""Feature flags: the registry of switches the code reads, and `is_enabled(name, tenant_id)` to read one.

`is_enabled` is the one evaluation every guarded code path calls; it is defined in
`shared.flags.service` and imported here on first use so that `from shared import flags` stays cheap.
"""

from __future__ import annotations


def is_enabled(name: str, tenant_id: str | None = None) -> bool:
    """Whether flag `name` is on for `tenant_id` (see shared.flags.service.is_enabled)."""
    from shared.flags import service

    return service.is_enabled(name, tenant_id)
