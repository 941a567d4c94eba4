"""Session access keys as an auth mode: header, cookie + CSRF, admin of the session's tenant."""

from __future__ import annotations

import json
import uuid

import azure.functions as func
import pytest

from shared.platform.http.adapter import operation
from shared.platform.http.auth import SessionAccess
from shared.platform.http.request import Request
from shared.sessions import access
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


@pytest.fixture
def session(emulators) -> tuple[str, str, str]:
    tenant = new_tenant_id("sess")
    session_id = uuid.uuid4().hex
    key = access.issue_key(session_id, tenant, ttl_seconds=3600)
    return session_id, tenant, key


def test_keys_are_long_random_and_stored_only_hashed(session):
    session_id, _, key = session
    assert len(key) >= 43
    stored = access.grants.read(session_id, session_id)
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
    assert call(session_id, {"x-session-access": key + "x"})[0] == 401
    assert call(uuid.uuid4().hex, {"x-session-access": key})[0] == 404
    assert call(session_id)[0] == 401


def test_an_expired_session_is_404(emulators):
    session_id = uuid.uuid4().hex
    key = access.issue_key(session_id, "t-expired", ttl_seconds=0)
    assert call(session_id, {"x-session-access": key})[0] == 404


def test_a_cookie_key_needs_the_csrf_token_on_writes(session):
    session_id, _, key = session
    status, body = call(session_id, {"Cookie": f"session_access={key}"})
    assert (status, body["error"]) == (403, "csrf_required")
    ok = call(session_id, {"Cookie": f"session_access={key}; csrf_token=tok123", "x-csrf-token": "tok123"})
    assert ok[0] == 200 and ok[1]["via"] == "cookie"
    mismatch = call(session_id, {"Cookie": f"session_access={key}; csrf_token=tok123", "x-csrf-token": "other"})
    assert mismatch[0] == 403


def test_an_admin_of_the_sessions_tenant_may_act_and_another_tenants_may_not(session, tokens):
    session_id, tenant, _ = session
    status, body = call(session_id, tokens.headers(tenant, "operator"))
    assert (status, body["via"]) == (200, "admin")
    assert call(session_id, tokens.headers(new_tenant_id(), "owner"))[0] == 404
    assert call(session_id, tokens.headers(tenant, "viewer"))[0] == 403
