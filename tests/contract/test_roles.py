"""The role table in docs/ARCHITECTURE.md is the truth about control-plane access; walk it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tests.support.contract import contract_operations
from tests.support.identity import new_tenant_id

TABLE = re.compile(r"<!-- role-table:start -->(.*?)<!-- role-table:end -->", re.S)
LOWER_ROLE = {"owner": "admin", "admin": "operator", "operator": "viewer"}


def role_table() -> dict[str, tuple[str, str, str]]:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rows = {}
    for line in TABLE.search(text).group(1).strip().splitlines()[2:]:
        operation_id, method, path, role = (cell.strip() for cell in line.strip().strip("|").split("|"))
        rows[operation_id] = (method, path, role)
    return rows


def snake_case(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def routed_operations() -> list[tuple[str, str, str]]:
    import function_app  # noqa: F401  (registers every operation)
    from shared.platform.http.adapter import OPERATION_AUTH

    return [
        (op.operation_id, op.method, op.template)
        for op in contract_operations()
        if snake_case(op.operation_id) in OPERATION_AUTH
    ]


def test_the_table_lists_exactly_the_routed_operations_with_their_code_auth():
    from shared.platform.http.adapter import OPERATION_AUTH

    table = role_table()
    routed = routed_operations()
    assert sorted(table) == sorted(op for op, _, _ in routed)
    for operation_id, method, path in routed:
        assert table[operation_id][:2] == (method, path)
        assert OPERATION_AUTH[snake_case(operation_id)].name == table[operation_id][2], operation_id


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "walk-target", path)


BEARER_ROLES = ("signed_in", "viewer", "operator", "admin", "owner", "super_admin")
WALK = sorted((op, row) for op, row in role_table().items() if row[2].startswith(BEARER_ROLES))


@pytest.mark.parametrize(("operation_id", "row"), WALK, ids=[op for op, _ in WALK])
def test_strangers_forgers_and_lower_roles_are_refused(client, tokens, operation_id, row):
    from devhost.tokens import generate_private_key

    method, path, role = row
    url = concrete(path)
    tenant = new_tenant_id("walk")
    no_token = client.request(method, url, json={})
    assert no_token.status_code == 401, operation_id
    forged = client.request(
        method,
        url,
        json={},
        headers={"Authorization": f"Bearer {tokens.token(tenant, 'owner', key=generate_private_key())}"},
    )
    assert forged.status_code == 401, operation_id
    lower = None
    if role == "super_admin":
        lower = "owner"
    elif role.startswith("super_admin or "):
        lower = LOWER_ROLE.get(role.removeprefix("super_admin or "))
    elif role in LOWER_ROLE:
        lower = LOWER_ROLE[role]
    if lower:
        refused = client.request(method, url, json={}, headers=tokens.headers(tenant, lower))
        assert refused.status_code == 403, operation_id
    if role != "signed_in":
        outsider = client.request(method, url, json={}, headers=tokens.headers(None, None))
        assert outsider.status_code == 403, operation_id
