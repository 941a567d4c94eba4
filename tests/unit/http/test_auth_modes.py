"""Realtime API key and workflow secret modes."""

from __future__ import annotations

import pytest

from shared.platform.errors import NotFound, Unauthorized
from shared.platform.http.auth import REALTIME_API_KEY, WORKFLOW_SECRET
from shared.platform.settings import reload_settings
from tests.support.requests import make_request


def request_with(headers: dict):
    return make_request("POST", headers=headers, path="/api/realtime/credentials")


@pytest.fixture
def env(monkeypatch):
    yield monkeypatch
    monkeypatch.undo()
    reload_settings()


def test_realtime_api_key_is_open_when_unset(env):
    env.delenv("API_KEY_FOR_REALTIME", raising=False)
    reload_settings()
    assert REALTIME_API_KEY.authenticate(request_with({})) is None


@pytest.mark.parametrize("headers", [{"x-api-key": "rt-secret"}, {"Authorization": "ApiKey rt-secret"}])
def test_realtime_api_key_accepts_either_header(env, headers):
    env.setenv("API_KEY_FOR_REALTIME", "rt-secret")
    reload_settings()
    assert REALTIME_API_KEY.authenticate(request_with(headers)) is None


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong"}, {"Authorization": "Bearer rt-secret"}])
def test_realtime_api_key_refuses_a_missing_or_wrong_key(env, headers):
    env.setenv("API_KEY_FOR_REALTIME", "rt-secret")
    reload_settings()
    with pytest.raises(Unauthorized):
        REALTIME_API_KEY.authenticate(request_with(headers))


def test_workflow_route_does_not_exist_without_a_secret(env):
    env.delenv("INTERNAL_WORKFLOW_CALLBACK_SECRET", raising=False)
    reload_settings()
    with pytest.raises(NotFound):
        WORKFLOW_SECRET.authenticate(request_with({"x-tellgence-workflow-secret": "anything"}))


def test_workflow_secret_must_match(env):
    env.setenv("INTERNAL_WORKFLOW_CALLBACK_SECRET", "wf-secret")
    reload_settings()
    assert WORKFLOW_SECRET.authenticate(request_with({"x-tellgence-workflow-secret": "wf-secret"})) is None
    for headers in ({}, {"x-tellgence-workflow-secret": "nope"}):
        with pytest.raises(Unauthorized):
            WORKFLOW_SECRET.authenticate(request_with(headers))
