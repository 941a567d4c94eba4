"""Health operations over HTTP through the dev host, against the real emulators."""

from __future__ import annotations

import os
import signal
import time

import pytest

from devhost.emulators import free_ports
from tests.conftest import reset_clients

LIVENESS_PATHS = ["/healthz", "/api/health/live", "/api/health/realtime"]
READINESS_PATHS = ["/readyz", "/api/health/ready"]


def closed_port() -> int:
    return free_ports(1)[0]


@pytest.mark.parametrize("path", LIVENESS_PATHS)
def test_liveness_answers_without_dependencies(client, settings_env, path):
    settings_env.setenv("COSMOS_ENDPOINT", f"https://127.0.0.1:{closed_port()}")
    reset_clients()
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["ok"] is True
    assert response.headers["x-correlation-id"]


def test_realtime_liveness_reports_uptime(client):
    body = client.get("/api/health/realtime").json()
    assert body["uptime"] >= 0


def test_liveness_reports_commit_when_known(client, settings_env):
    settings_env.setenv("GIT_COMMIT", "abc1234")
    reset_clients()
    assert client.get("/api/health/live").json()["commit"] == "abc1234"


@pytest.mark.parametrize("path", READINESS_PATHS)
def test_readiness_ok_with_every_dependency_up(client, path):
    response = client.get(path)
    body = response.json()
    assert response.status_code == 200, body
    assert body["ok"] is True
    assert body["checks"] == {"configuration": True, "cosmos": True, "storage_queues": True, "storage_blobs": True}
    assert "failures" not in body


@pytest.mark.parametrize("path", READINESS_PATHS)
def test_readiness_names_a_dead_cosmos_within_seconds(client, settings_env, path):
    settings_env.setenv("COSMOS_ENDPOINT", f"https://127.0.0.1:{closed_port()}")
    reset_clients()
    started = time.monotonic()
    response = client.get(path)
    elapsed = time.monotonic() - started
    body = response.json()
    assert response.status_code == 503
    assert [failure["check"] for failure in body["failures"]] == ["cosmos"]
    assert body["checks"]["storage_queues"] is True
    assert elapsed < 4


def test_readiness_bounds_a_hanging_cosmos_and_recovers(client, emulators):
    pid = emulators.cosmos_pid
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert response.status_code == 503
    failure = response.json()["failures"][0]
    assert failure["check"] == "cosmos"
    assert failure["status"] == "timeout"
    assert elapsed < 4
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            break
        time.sleep(0.5)
    else:
        pytest.fail("readiness did not recover after the emulator resumed")


def test_readiness_names_dead_storage(client, settings_env):
    port = closed_port()
    settings_env.setenv(
        "AzureWebJobsStorage",
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;",
    )
    reset_clients()
    response = client.get("/api/health/ready")
    assert response.status_code == 503
    assert {failure["check"] for failure in response.json()["failures"]} == {"storage_queues", "storage_blobs"}


def test_readiness_reports_missing_configuration(client, settings_env):
    settings_env.setenv("COSMOS_ENDPOINT", "")
    reset_clients()
    body = client.get("/readyz").json()
    checks = {failure["check"]: failure for failure in body["failures"]}
    assert checks["configuration"]["status"] == "misconfigured"
    assert "COSMOS_ENDPOINT" in checks["configuration"]["message"]
    assert checks["cosmos"]["status"] == "not_configured"


def test_health_report_lists_services_and_surface(client):
    response = client.get("/api/health")
    body = response.json()
    assert response.status_code == 200, body
    assert body["services"]["cosmos"]["healthy"] is True
    assert body["services"]["storage"]["healthy"] is True
    assert body["services"]["azureOpenAI"] == {"configured": False, "status": "not_configured"}
    assert body["services"]["evidenceSigning"] == {"configured": True, "status": "ok", "mode": "configured_key"}
    assert body["surface"]["appEnv"] == "test"
    assert body["surface"]["corsAllowedOrigins"] == ["http://localhost:3000"]
    assert body["surface"]["realtime"]["endpointConfigured"] is False
    assert body["version"] == "1.0.0"


def test_health_report_is_degraded_when_cosmos_is_down(client, settings_env):
    settings_env.setenv("COSMOS_ENDPOINT", f"https://127.0.0.1:{closed_port()}")
    reset_clients()
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["services"]["cosmos"]["healthy"] is False


def test_health_report_never_returns_a_secret(client, settings_env):
    secret = "sk-test-" + "x" * 40
    settings_env.setenv("AZURE_OPENAI_ENDPOINT", "https://example-resource.openai.azure.com/openai")
    settings_env.setenv("AZURE_OPENAI_API_KEY", secret)
    settings_env.setenv("INTERNAL_WORKFLOW_CALLBACK_SECRET", "workflow-" + secret)
    reset_clients()
    response = client.get("/api/health")
    assert secret not in response.text
    body = response.json()
    assert body["services"]["azureOpenAI"]["endpoint"] == "https://example-resource.openai.azure.com"
    assert body["surface"]["internalWorkflowCallbacksConfigured"] is True
    cosmos_key = os.environ["COSMOS_KEY"]
    assert cosmos_key not in response.text


def test_a_local_database_lost_by_an_emulator_restart_is_recreated(client, settings_env):
    import uuid

    from shared.platform.store import cosmos

    name = f"restarted-{uuid.uuid4().hex[:8]}"
    settings_env.setenv("COSMOS_DATABASE", name)
    reset_clients()
    try:
        first = client.get("/readyz")
        assert first.status_code == 503
        assert first.json()["failures"][0]["check"] == "cosmos"
        deadline = time.monotonic() + 20
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the schema was not recreated"
            time.sleep(0.5)
        names = {container["id"] for container in cosmos.get_database().list_containers()}
        from shared.platform.store.registry import CONTAINERS

        assert {spec.name for spec in CONTAINERS} <= names
    finally:
        cosmos.get_client().delete_database(name)


def test_outside_local_development_a_missing_database_is_only_reported(client, settings_env):
    import uuid

    from shared.platform.store import cosmos

    name = f"absent-{uuid.uuid4().hex[:8]}"
    settings_env.setenv("COSMOS_DATABASE", name)
    settings_env.setenv("APP_ENV", "staging")
    settings_env.setenv("FRONTEND_URLS", "https://app.example.test")
    reset_clients()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["details"]["cosmos"]["status"] == "missing"
    assert name not in {db["id"] for db in cosmos.get_client().list_databases()}
