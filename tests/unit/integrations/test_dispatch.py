"""execute / health_check: validation before any request, demo providers through a recorder, no secret in logs."""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from shared.integrations import catalog, dispatch
from shared.integrations.dispatch import execute, health_check
from shared.platform.errors import NotFound, ServiceUnavailable, ValidationFailed

KEY = "tool:sess-5:create_lead"


class StoreRecorder:
    """A demo store in memory: records once per idempotency key, like the Cosmos-backed one will."""

    def __init__(self, *, down: bool = False) -> None:
        self.records: dict[str, dict[str, Any]] = {}
        self.down = down

    def record(
        self, provider_id: str, action_id: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> Mapping[str, Any]:
        if self.down:
            raise ServiceUnavailable("The store is not reachable", code="db_unavailable")
        if idempotency_key not in self.records:
            self.records[idempotency_key] = {
                "id": f"rec-{len(self.records) + 1}",
                "providerId": provider_id,
                "actionId": action_id,
                "params": dict(params),
            }
        return self.records[idempotency_key]

    def check(self) -> None:
        if self.down:
            raise ServiceUnavailable("The store is not reachable", code="db_unavailable")


LEAD = {"lastName": "Rivera", "company": "Rivera Dental", "score": 82}


def test_a_demo_provider_records_once_per_idempotency_key():
    store = StoreRecorder()
    first = execute("salesforce_mock", "create_lead", {}, LEAD, idempotency_key=KEY, recorder=store)
    again = execute("salesforce_mock", "create_lead", {}, LEAD, idempotency_key=KEY, recorder=store)
    other = execute("salesforce_mock", "create_lead", {}, LEAD, idempotency_key=KEY + ":2", recorder=store)
    assert first.ok and first.external_id == "rec-1"
    assert first.data == {"id": "rec-1", "providerId": "salesforce_mock", "actionId": "create_lead", "params": LEAD}
    assert again.external_id == "rec-1"
    assert other.external_id == "rec-2"
    assert len(store.records) == 2
    assert first.response_code is None
    assert first.to_dict()["status"] == "succeeded"


def test_a_demo_provider_without_a_store_fails_instead_of_pretending():
    result = execute("salesforce_mock", "create_lead", {}, LEAD, idempotency_key=KEY)
    assert not result.ok
    assert result.error_class == "configuration"
    assert result.summary == "Salesforce (demo) has no demo store to record into"
    check = health_check("salesforce_mock", {})
    assert check.status == "failed" and check.error_class == "configuration"


def test_a_demo_store_outage_is_retryable():
    store = StoreRecorder(down=True)
    result = execute(
        "ehr_mock",
        "create_patient",
        {},
        {"fullName": "A B", "birthDate": "1990-01-01"},
        idempotency_key=KEY,
        recorder=store,
    )
    assert result.error_class == "provider_error" and result.retryable
    assert health_check("calendar_mock", {}, recorder=store).status == "failed"
    assert health_check("calendar_mock", {}, recorder=StoreRecorder()).status == "connected"


def test_invalid_params_are_a_400_before_any_request(httpserver: HTTPServer):
    config = {"url": httpserver.url_for("/hook"), "signingSecret": "0123456789abcdef"}
    with pytest.raises(ValidationFailed) as error:
        execute("signed_webhook", "send_event", config, {"event": "Bad Event!", "data": {}}, idempotency_key=KEY)
    assert error.value.fields["details"] == ["params.event: has the wrong format"]
    assert httpserver.log == []


def test_an_invalid_config_is_a_400_naming_fields_before_any_request(httpserver: HTTPServer):
    with pytest.raises(ValidationFailed) as error:
        execute(
            "signed_webhook",
            "send_event",
            {"url": httpserver.url_for("/hook")},
            {"event": "a", "data": {}},
            idempotency_key=KEY,
        )
    assert error.value.fields["details"] == ["signingSecret: is required"]
    assert httpserver.log == []


@pytest.mark.parametrize("key", ["", "has space", "x" * 201, None, "naïve"])
def test_the_idempotency_key_is_required_and_plain(key: Any):
    with pytest.raises(ValidationFailed) as error:
        execute("salesforce_mock", "create_lead", {}, LEAD, idempotency_key=key, recorder=StoreRecorder())
    assert error.value.code == "invalid_idempotency_key"


def test_unknown_provider_or_action_is_not_found():
    with pytest.raises(NotFound):
        execute("hubspot", "create_lead", {}, LEAD, idempotency_key=KEY)
    with pytest.raises(NotFound):
        execute("salesforce_mock", "delete_all", {}, LEAD, idempotency_key=KEY)
    with pytest.raises(NotFound):
        health_check("hubspot", {})


def test_every_real_action_has_a_client_and_every_client_a_health_check():
    for provider in catalog.providers().values():
        module = importlib.import_module(dispatch.CLIENT_MODULES[provider.client])
        assert callable(module.health), provider.id
        if provider.client != "demo":
            assert set(module.ACTIONS) == {a.id for a in provider.actions}, provider.id


def test_no_secret_reaches_a_log_line_or_a_result(httpserver: HTTPServer, caplog: pytest.LogCaptureFixture):
    secret = "erp-key-that-must-not-leak"
    httpserver.expect_request("/erp/v1/health").respond_with_json({"message": f"key {secret} revoked"}, status=401)
    httpserver.expect_request("/erp/v1/invoices").respond_with_json({"id": "inv_1"}, status=201)
    config = {"baseUrl": httpserver.url_for("/erp"), "apiKey": secret}
    params = {
        "customerExternalId": "c1",
        "currency": "EUR",
        "lines": [{"description": "x", "quantity": 1, "unitAmountMinor": 5}],
    }
    with caplog.at_level(logging.DEBUG):
        check = health_check("erp_rest", config)
        result = execute("erp_rest", "create_invoice", config, params, idempotency_key=KEY)
    assert check.status == "failed" and result.ok
    everything = caplog.text + json.dumps([check.to_dict(), result.to_dict()])
    assert secret not in everything
    assert "integration erp_rest health check failed: auth_failed (HTTP 401)" in caplog.text
    assert "integration erp_rest.create_invoice succeeded (HTTP 201)" in caplog.text


def test_result_views_are_camel_case_without_empty_fields():
    result = execute(
        "salesforce_mock", "log_activity", {}, {"subject": "Call"}, idempotency_key=KEY, recorder=StoreRecorder()
    )
    view = result.to_dict()
    assert set(view) == {
        "providerId",
        "actionId",
        "status",
        "ok",
        "latencyMs",
        "idempotencyKey",
        "summary",
        "externalId",
        "data",
        "retryable",
    }
    check = health_check("salesforce_mock", {}, recorder=StoreRecorder()).to_dict()
    assert set(check) == {"providerId", "status", "ok", "latencyMs", "message", "checkedAt"}
