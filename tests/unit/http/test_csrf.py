"""CSRF double-submit verification."""

from __future__ import annotations

import pytest

from shared.platform.errors import Forbidden
from shared.platform.http import csrf
from tests.support.requests import make_request


def test_issued_token_matches_its_cookie():
    token, cookie = csrf.issue_token()
    assert cookie.startswith(f"csrf_token={token};")
    csrf.verify(make_request("POST", cookies={"csrf_token": token}, headers={"x-csrf-token": token}))


@pytest.mark.parametrize(
    ("cookies", "headers", "code"),
    [
        ({}, {}, "csrf_required"),
        ({"csrf_token": "a" * 43}, {}, "csrf_required"),
        ({}, {"x-csrf-token": "a" * 43}, "csrf_required"),
        ({"csrf_token": "a" * 43}, {"x-csrf-token": "b" * 43}, "csrf_mismatch"),
    ],
)
def test_state_changing_request_without_matching_token_is_refused(cookies, headers, code):
    with pytest.raises(Forbidden) as caught:
        csrf.verify(make_request("PATCH", cookies=cookies, headers=headers))
    assert caught.value.code == code


def test_safe_methods_need_no_token():
    csrf.verify(make_request("GET"))
