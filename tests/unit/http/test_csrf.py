"""CSRF: an allowed Origin and a token bound to the session key, on cookie-authenticated writes."""

from __future__ import annotations

import pytest

from shared.platform.errors import Forbidden
from shared.platform.http import csrf
from shared.platform.settings import reload_settings
from tests.support.requests import make_request

KEY = "k" * 43 + ".t-csrf"
ORIGIN = "http://localhost:3000"


@pytest.fixture(autouse=True)
def frontend(monkeypatch):
    monkeypatch.setenv("FRONTEND_URLS", ORIGIN)
    reload_settings()
    yield
    monkeypatch.undo()
    reload_settings()


def test_the_token_is_an_hmac_of_the_session_key():
    token = csrf.token_for(KEY)
    assert token == csrf.issue_token(KEY) and len(token) == 43
    assert token != csrf.token_for("j" * 43 + ".t-csrf")
    assert csrf.issue_token(None) != csrf.issue_token(None)
    csrf.verify(make_request("POST", headers={"x-csrf-token": token, "Origin": ORIGIN}), KEY)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Origin": ORIGIN}, "csrf_required"),
        ({"Origin": ORIGIN, "x-csrf-token": "b" * 43}, "csrf_mismatch"),
        ({"x-csrf-token": csrf.token_for(KEY)}, "origin_not_allowed"),
        ({"Origin": "https://evil.example", "x-csrf-token": csrf.token_for(KEY)}, "origin_not_allowed"),
        ({"Origin": "null", "x-csrf-token": csrf.token_for(KEY)}, "origin_not_allowed"),
    ],
)
def test_state_changing_request_without_origin_or_bound_token_is_refused(headers, code):
    with pytest.raises(Forbidden) as caught:
        csrf.verify(make_request("PATCH", headers=headers), KEY)
    assert caught.value.code == code


def test_safe_methods_need_no_token():
    csrf.verify(make_request("GET"), KEY)
