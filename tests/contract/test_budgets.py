"""Every routed operation has a store-call budget; the contract client enforces it on every request."""

from __future__ import annotations

from tests.contract.test_roles import routed_operations
from tests.support import budgets


def test_every_routed_operation_has_exactly_one_budget_row():
    routed = sorted(operation_id for operation_id, _, _ in routed_operations())
    assert sorted(budgets.budgets()) == routed
    assert sorted(operation_id for operation_id, _ in budgets.table_rows()) == routed, "an operation has two rows"


def test_the_targets_of_the_public_demo_path_hold():
    table = budgets.budgets()
    assert table["getSession"] <= 2
    assert table["patchSessionState"] <= 3
    assert table["createSession"] <= 4
    for catalog in ("getPersonas", "getVoices", "getScenarios", "getScenarioBySlug", "getTools"):
        assert table[catalog] == 0


def test_an_operation_over_its_budget_fails_its_test(client, monkeypatch):
    import pytest

    from tests.support.sessions import key_headers, start_session

    session = start_session(client)
    monkeypatch.setitem(budgets.budgets(), "getSession", 0)
    with pytest.raises(budgets.BudgetExceeded, match="getSession made 2 store calls"):
        client.get(f"/api/sessions/{session['sessionId']}", headers=key_headers(session))
