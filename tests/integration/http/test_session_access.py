"""Session access keys as an auth mode: header, cookie + CSRF, admin of the session's tenant."""

from __future__ import annotations

import json
import uuid

import azure.functions as func
import pytest

from shared.platform.http.adapter import operation
from shared.platform.http.request import Request
from shared.sessions import access
from shared.sessions.auth import SessionAccess
from tests.support.identity import new_tenant_id

bp = func.Blueprint()


@operation(bp, "t/sessions/{id}/touch", methods=["POST"], auth=SessionAccess())
def touch_session(request: Request) -> dict:
    grant = request.principal
    return {"sessionId": grant.session_id, "tenantId": grant.tenant_id, "via": grant.via}


app = func.FunctionApp()
app.register_functions(bp)
TOUCH = next(iter(app.get_functions())).get_user_function()


def call(session_id: str, headers: dict | None = None) -> tuple[int, dict]:
    request = func.HttpRequest(
        "POST",
        f"http://x/t/sessions/{session_id}/touch",
        headers=headers or {},
        route_params={"id": session_id},
        body=b"",
    )
    response = TOUCH(request)
    return response.status_code, json.loads(response.get_body())


def stored_session(tenant: str, ttl_seconds: int = 3600) -> tuple[str, str]:
    """A session of `tenant` stored through the aggregate, as the create operation stores it."""
    from shared.catalog.service import scenario_or_400
    from shared.platform import clock
    from shared.sessions import aggregate, service

    doc, handle, key = service.new_session(
        scenario_or_400("insurance-fnol"), tenant, title=None, company=None, locale=None
    )
    if ttl_seconds <= 0:
        for item in (doc, handle):
            item["expiresAt"] = clock.now_iso()
    aggregate.create(doc, handle)
    return doc["id"], key


@pytest.fixture
def session(emulators) -> tuple[str, str, str]:
    tenant = new_tenant_id("sess")
    session_id, key = stored_session(tenant)
    return session_id, tenant, key


def test_keys_are_long_random_name_their_tenant_and_are_stored_only_hashed(session):
    from shared.sessions import aggregate

    session_id, tenant, key = session
    secret, _, named_tenant = key.rpartition(".")
    assert len(secret) >= 43 and named_tenant == tenant
    for stored in (aggregate.sessions.read(session_id, tenant), aggregate.handles.read(session_id, session_id)):
        assert key not in json.dumps(stored)
        assert stored["keyHash"] == access.hash_key(key)


def test_the_header_key_grants_access(session):
    session_id, tenant, key = session
    assert call(session_id, {"x-session-access": key}) == (
        200,
        {"sessionId": session_id, "tenantId": tenant, "via": "header"},
    )


def test_a_wrong_key_is_401_and_an_unknown_session_404(session):
    session_id, _, key = session
    secret, _, _ = key.rpartition(".")
    assert call(session_id, {"x-session-access": "x" + key})[0] == 401
    assert call(session_id, {"x-session-access": "garbage"})[0] == 401
    assert call(uuid.uuid4().hex, {"x-session-access": key})[0] == 404
    # The same secret presented for another tenant's partition finds nothing there.
    assert call(session_id, {"x-session-access": f"{secret}.{new_tenant_id()}"})[0] == 404
    assert call(session_id)[0] == 401


def test_an_expired_session_is_404(emulators):
    session_id, key = stored_session(new_tenant_id("exp"), ttl_seconds=0)
    assert call(session_id, {"x-session-access": key})[0] == 404


def test_a_cookie_key_needs_an_allowed_origin_and_the_csrf_token_bound_to_it(session):
    from shared.platform.http import csrf

    session_id, _, key = session
    origin = {"Origin": "http://localhost:3000"}
    token = csrf.token_for(key)
    status, body = call(session_id, {"Cookie": f"session_access={key}", **origin})
    assert (status, body["error"]) == (403, "csrf_required")
    foreign = call(
        session_id, {"Cookie": f"session_access={key}", "x-csrf-token": token, "Origin": "https://evil.test"}
    )
    assert (foreign[0], foreign[1]["error"]) == (403, "origin_not_allowed")
    no_origin = call(session_id, {"Cookie": f"session_access={key}", "x-csrf-token": token})
    assert no_origin[0] == 403
    ok = call(session_id, {"Cookie": f"session_access={key}", "x-csrf-token": token, **origin})
    assert ok[0] == 200 and ok[1]["via"] == "cookie"
    # A token bound to another session's key, or an old double-submit pair, is refused.
    other = csrf.token_for(stored_session(new_tenant_id())[1])
    assert call(session_id, {"Cookie": f"session_access={key}", "x-csrf-token": other, **origin})[0] == 403
    pair = call(session_id, {"Cookie": f"session_access={key}; csrf_token=tok", "x-csrf-token": "tok", **origin})
    assert (pair[0], pair[1]["error"]) == (403, "csrf_mismatch")


def test_an_operator_of_the_sessions_tenant_may_act_and_another_tenants_may_not(session, tokens):
    session_id, tenant, _ = session
    status, body = call(session_id, tokens.headers(tenant, "operator"))
    assert (status, body["via"]) == (200, "bearer")
    assert call(session_id, tokens.headers(new_tenant_id(), "owner"))[0] == 404
    assert call(session_id, tokens.headers(tenant, "viewer"))[0] == 403


def test_anonymous_demo_sessions_are_visible_to_super_admins_only(emulators, tokens):
    session_id, _ = stored_session("default-practice")
    assert call(session_id, tokens.super_admin())[0] == 200
    assert call(session_id, tokens.headers(new_tenant_id(), "owner"))[0] == 404


def test_malformed_ids_are_404_before_any_store_call(session):
    _, _, key = session
    for bad in ("..", "a/b", "%2F", "x" * 10_000, "a..b", "", "-lead"):
        assert call(bad, {"x-session-access": key})[0] == 404, bad
