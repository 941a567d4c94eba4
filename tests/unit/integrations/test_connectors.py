"""Connector config rules: stored secrets kept only for the same destination, previews never show a secret."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from shared.integrations import catalog, connectors
from shared.platform.secrets import MASK, encrypt_fields

TENANT = "tenant-a"
SECRET = "whsec-unit-signing-secret-123"


def stored_webhook(url: str = "https://hooks.example.com/in", *, provider: str = "signed_webhook") -> dict:
    config = encrypt_fields(
        {"url": url, "signingSecret": SECRET}, ["signingSecret"], context=connectors.secret_context(TENANT, "webhook")
    )
    return {"id": "webhook", "tenantId": TENANT, "providerId": provider, "status": "connected", "config": config}


WEBHOOK = catalog.provider("signed_webhook")


def test_a_masked_or_missing_secret_is_taken_from_the_stored_connector():
    for posted in (
        {"url": "https://hooks.example.com/in"},
        {"url": "https://hooks.example.com/in", "signingSecret": MASK},
    ):
        clear, problems = connectors.resolve_config(WEBHOOK, posted, stored_webhook())
        assert problems == []
        assert clear == {"url": "https://hooks.example.com/in", "signingSecret": SECRET}


def test_a_new_destination_needs_the_secret_again():
    clear, problems = connectors.resolve_config(WEBHOOK, {"url": "https://evil.example.com/in"}, stored_webhook())
    assert problems == ["signingSecret: enter it again, because url changed"]
    assert "signingSecret" not in clear


def test_a_typed_secret_replaces_the_stored_one_and_the_mask_is_never_kept_as_a_value():
    clear, problems = connectors.resolve_config(
        WEBHOOK, {"url": "https://evil.example.com/in", "signingSecret": "a-new-secret-9876543"}, stored_webhook()
    )
    assert problems == [] and clear["signingSecret"] == "a-new-secret-9876543"
    clear, _ = connectors.resolve_config(WEBHOOK, {"signingSecret": MASK}, None)
    assert "signingSecret" not in clear


def test_secrets_of_another_provider_or_an_unused_field_are_not_carried_over():
    fhir = catalog.provider("fhir_r4")
    stored = {
        "id": "ehr",
        "tenantId": TENANT,
        "providerId": "fhir_r4",
        "status": "connected",
        "config": encrypt_fields(
            {"baseUrl": "https://ehr.example.org/fhir", "authMode": "bearer", "accessToken": "tok-123456"},
            ["accessToken"],
            context=connectors.secret_context(TENANT, "ehr"),
        ),
    }
    switched, _ = connectors.resolve_config(
        fhir, {"baseUrl": "https://ehr.example.org/fhir", "authMode": "smart_backend_services"}, stored
    )
    assert "accessToken" not in switched  # not used under the new auth mode
    other, _ = connectors.resolve_config(catalog.provider("ehr_mock"), {}, stored)
    assert other == {}


def test_the_preview_masks_secrets_and_any_sealed_value():
    doc = stored_webhook()
    doc["config"]["legacyToken"] = doc["config"]["signingSecret"]  # an envelope under a name the catalog forgot
    preview = connectors.config_preview(doc)
    assert preview == {"url": "https://hooks.example.com/in", "signingSecret": MASK, "legacyToken": MASK}
    assert SECRET not in json.dumps(connectors.connector_view(doc, now=datetime.now(UTC)))


def test_open_config_opens_only_with_the_connectors_own_context():
    doc = stored_webhook()
    assert connectors.open_config(doc)["signingSecret"] == SECRET
    moved = {**doc, "tenantId": "tenant-b"}
    try:
        connectors.open_config(moved)
    except Exception as exc:  # an envelope copied to another tenant does not open
        assert type(exc).__name__ == "SecretUnreadable"
    else:
        raise AssertionError("an envelope opened under another tenant's context")
