"""Meta operations over HTTP through the dev host."""

from __future__ import annotations

import json
import re

from shared.platform.http import csrf
from tests.support.contract import CONTRACT_PATH
from tests.support.requests import make_request


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


def test_csrf_token_is_issued_with_a_matching_cookie(client):
    response = client.get("/api/csrf")
    token = response.json()["csrfToken"]
    assert len(token) >= 43
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"csrf_token={token};")
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Path=/"):
        assert attribute in cookie
    assert client.get("/api/csrf").json()["csrfToken"] != token


def test_csrf_token_from_the_endpoint_verifies_a_cookie_authenticated_write(client):
    token = client.get("/api/csrf").json()["csrfToken"]
    csrf.verify(make_request("POST", cookies={"csrf_token": token}, headers={"x-csrf-token": token}))
