"""This month's usage of a tenant, computed from its stored sessions (one single-partition query).

A call is a session created in the current UTC month; its minutes are the session's recorded `duration`
(seconds, as finalize stored it) over 60. There is no usage rollup yet, so the sessions are the source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.platform import clock

USAGE_SQL = (
    "SELECT COUNT(1) AS calls, SUM(c.duration) AS seconds FROM c WHERE c.tenantId = @tenantId AND c.createdAt >= @since"
)


def month_start(now: datetime) -> datetime:
    """The first instant of `now`'s UTC month."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime) -> datetime:
    """The first instant of the UTC month after `now`'s."""
    start = month_start(now)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def minutes(seconds: float) -> float:
    """Seconds as minutes, to two decimals."""
    return round(seconds / 60, 2)


def this_month(tenant_id: str, now: datetime | None = None) -> dict[str, Any]:
    """{"calls", "minutes"} of the tenant's sessions created since the start of this UTC month."""
    from shared.sessions import aggregate

    since = clock.iso(month_start(now or clock.utc_now()))
    rows = aggregate.query(tenant_id, USAGE_SQL, {"since": since})
    row = rows[0] if rows else {}
    return {"calls": int(row.get("calls") or 0), "minutes": minutes(float(row.get("seconds") or 0))}
