"""The store-call budget of every operation, read from docs/ARCHITECTURE.md and enforced on every test request.

With metering on (the suite turns it on), the adapter counts each request's Cosmos round trips; the
contract client looks the count up by correlation id and fails the request's test when an operation
spends more than its row in the budget table allows. Calls made to fill a per-process cache or open
a rate-limit window are amortized and not held against the request.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from functools import cache

from tests.conftest import ROOT

TABLE = re.compile(r"<!-- budget-table:start -->(.*?)<!-- budget-table:end -->", re.S)

_observed: dict[str, int] = defaultdict(int)
_lock = threading.Lock()


class BudgetExceeded(AssertionError):
    """An operation made more store calls than its budget."""


def table_rows() -> list[tuple[str, int]]:
    """(operationId, budget) of every row of the table, in order."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = []
    for line in TABLE.search(text).group(1).strip().splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append((cells[0], int(cells[1])))
    return rows


@cache
def budgets() -> dict[str, int]:
    """operationId → the most Cosmos round trips one request may make."""
    return dict(table_rows())


def check(correlation_id: str | None) -> None:
    """Hold the request with this correlation id to its operation's budget (no-op when it was not metered)."""
    from shared.platform.http.contract import rules_for
    from shared.platform.store import metering

    if not correlation_id or not metering.enabled():
        return
    recorded = metering.recorded(correlation_id)
    if recorded is None:
        return
    function_name, count = recorded
    rules = rules_for(function_name)
    if rules is None:
        return
    with _lock:
        _observed[rules.operation_id] = max(_observed[rules.operation_id], count.calls)
    budget = budgets().get(rules.operation_id)
    if budget is None:
        raise BudgetExceeded(f"{rules.operation_id} has no row in the budget table of docs/ARCHITECTURE.md")
    if count.calls > budget:
        raise BudgetExceeded(
            f"{rules.operation_id} made {count.calls} store calls (budget {budget}; "
            f"{count.amortized} more were amortized)"
        )


def observed() -> dict[str, int]:
    """The most store calls seen per operation in this run."""
    with _lock:
        return dict(_observed)
