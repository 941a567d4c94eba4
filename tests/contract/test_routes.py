"""Route coverage and ambiguity: the registered functions against the contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.conftest import ROOT
from tests.support.contract import contract_operations, find_operation

_INDEX_SCRIPT = """
import json, function_app
routes = []
for function in function_app.app.get_functions():
    trigger = function.get_trigger()
    if type(trigger).__name__ == "HttpTrigger":
        for method in trigger.methods or []:
            routes.append([getattr(method, "value", str(method)).upper(), trigger.route, function.get_function_name()])
print(json.dumps(routes))
"""


def registered_routes() -> list[tuple[str, str, str]]:
    """Index the app in a fresh process, exactly once, as the Functions worker does."""
    output = subprocess.run(
        [sys.executable, "-c", _INDEX_SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [tuple(route) for route in json.loads(output.strip().splitlines()[-1])]


def normalise(route: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", "/" + route.strip("/"))


def snake_case(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def test_every_registered_route_is_a_contract_operation_named_after_it():
    contract = {(op.method, normalise(op.template)): op for op in contract_operations()}
    routes = registered_routes()
    outside = [f"{method} /{route}" for method, route, _ in routes if (method, normalise(route)) not in contract]
    assert not outside, f"routes outside the contract: {outside}"
    for method, route, function_name in routes:
        operation = contract[(method, normalise(route))]
        assert function_name == snake_case(operation.operation_id), (route, function_name)
    routed = {(method, normalise(route)) for method, route, _ in routes}
    print(f"routed {len(routed)}/{len(contract)} contract operations")


def test_no_two_registered_routes_of_one_method_match_the_same_path():
    from devhost.routing import find_ambiguities

    routes = registered_routes()
    assert find_ambiguities([(method, route) for method, route, _ in routes]) == []


def test_contract_lookup_prefers_literal_segments():
    assert (
        find_operation("GET", "/api/cp/sessions/exceptions").operation_id
        != find_operation("GET", "/api/cp/sessions/abc").operation_id
    )
    assert find_operation("GET", "/").operation_id == "getApiRoot"


def test_session_desk_ids_never_match_the_exceptions_routes():
    """Every Sessions CP route with a session id (routed now or later) takes it as SESSION_ID, which refuses
    the literal `exceptions`, so `exceptions/{id}` and `{id}/cost` (and the rest) never match one path."""
    from blueprints.cp_sessions import SESSION_ID
    from devhost.routing import find_ambiguities

    desk = [
        (op.method, op.template.lstrip("/"))
        for op in contract_operations()
        if op.template.startswith("/api/cp/sessions/")
    ]
    constrained = [(method, template.replace("{id}", SESSION_ID, 1)) for method, template in desk]
    exception_routes = [(m, t) for m, t in desk if t.startswith("api/cp/sessions/exceptions")]
    session_routes = [(m, t) for m, t in constrained if not t.startswith("api/cp/sessions/exceptions")]
    assert find_ambiguities(exception_routes + session_routes) == []
    # Without the constraint they would collide: the check above is not vacuous.
    assert find_ambiguities(desk) != []
    registered = [route for method, route, _ in registered_routes() if route.startswith("api/cp/sessions/{")]
    assert registered and all(route.startswith(f"api/cp/sessions/{SESSION_ID}") for route in registered)
