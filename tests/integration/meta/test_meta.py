"""Meta operations over HTTP through the dev host."""

from __future__ import annotations

import json
import re

from shared.platform.http import csrf
from tests.support.contract import CONTRACT_PATH


def test_root_returns_json_summary_by_default(client):
    response = client.get("/")
    body = response.json()
    assert response.status_code == 200
    assert body["name"] == "Tellgence API"
    assert body["links"]["docs"] == "/api/doc"


def test_root_returns_html_to_browsers(client):
    response = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Tellgence API</h1>" in response.text


def test_docs_page_inlines_swagger_ui_and_requests_nothing_external(client):
    response = client.get("/api/doc")
    assert response.status_code == 200
    page = response.text
    assert "SwaggerUIBundle" in page
    assert 'url: "/api/openapi.json"' in page
    assert "validatorUrl: null" in page
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?https?://""", page)
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "connect-src 'self'" in policy


def test_docs_page_answers_304_to_a_current_copy(client):
    first = client.get("/api/doc")
    again = client.get("/api/doc", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_docs_aliases_redirect(client):
    for path in ("/api/docs", "/api/docs/ui"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["location"] == "/api/doc"


def test_build_info_comes_from_settings(client):
    body = client.get("/api/build-info").json()
    assert body["buildId"] == "test-build"
    assert body["version"] == "1.0.0"
    assert body["deploymentTime"]


def test_openapi_document_is_the_contract_byte_for_byte(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.content == CONTRACT_PATH.read_bytes()
    assert json.loads(response.content)["openapi"].startswith("3.1")
    cached = client.get("/api/openapi.json", headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304


def test_the_csrf_token_is_bound_to_the_session_cookie(client):
    from tests.support.sessions import start_session

    session = start_session(client)
    key = session["accessKey"]
    bound = client.get("/api/csrf", headers={"Cookie": f"session_access={key}"}).json()["csrfToken"]
    assert bound == csrf.token_for(key)
    assert client.get("/api/csrf", headers={"Cookie": f"session_access={key}"}).json()["csrfToken"] == bound
    unbound = client.get("/api/csrf").json()["csrfToken"]
    assert len(unbound) >= 43 and unbound != bound


def test_a_cookie_authenticated_write_needs_the_bound_token_and_an_allowed_origin(client):
    from tests.support.sessions import start_session

    session = start_session(client)
    key, sid = session["accessKey"], session["sessionId"]
    cookie = {"Cookie": f"session_access={key}"}
    token = client.get("/api/csrf", headers=cookie).json()["csrfToken"]
    origin = {"Origin": "http://localhost:3000"}
    write = {"completedStep": "greet"}
    ok = client.patch(f"/api/sessions/{sid}/state", json=write, headers={**cookie, **origin, "x-csrf-token": token})
    assert ok.status_code == 200
    for headers in (
        {**cookie, **origin},
        {**cookie, "x-csrf-token": token},
        {**cookie, "Origin": "https://attacker.example", "x-csrf-token": token},
        {**cookie, **origin, "x-csrf-token": client.get("/api/csrf").json()["csrfToken"]},
    ):
        assert client.patch(f"/api/sessions/{sid}/state", json=write, headers=headers).status_code == 403
    # Reads need no token.
    assert client.get(f"/api/sessions/{sid}/state", headers=cookie).status_code == 200
