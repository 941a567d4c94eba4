"""configure(): off and import-free without a connection string; Azure Monitor with the managed identity with one."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.platform import telemetry
from shared.platform.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


def run_python(code: str, **env: str) -> str:
    """Run `code` in a fresh interpreter at the project root, without any Application Insights setting of ours."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("APPLICATIONINSIGHTS_", "OTEL_"))}
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_without_a_connection_string_the_app_imports_nothing_of_opentelemetry() -> None:
    loaded = run_python(
        "import json, sys, function_app\n"
        "from shared.platform import telemetry\n"
        "print(json.dumps([telemetry.tracing_enabled(), sorted(m for m in sys.modules"
        " if m.split('.')[0] == 'opentelemetry' or m.startswith('azure.monitor'))]))"
    )
    assert json.loads(loaded) == [False, []]


def test_with_a_connection_string_azure_monitor_traces_the_sdk_and_httpx() -> None:
    state = run_python(
        "import json, function_app, httpx\n"
        "from azure.core.settings import settings\n"
        "from opentelemetry import trace\n"
        "from shared.platform import telemetry\n"
        "print(json.dumps([telemetry.tracing_enabled(), settings.tracing_implementation().__name__,"
        " type(trace.get_tracer_provider()).__module__,"
        " hasattr(httpx.HTTPTransport.handle_request, '__wrapped__')]))",
        # A loopback ingestion endpoint nothing listens on: the test sends no telemetry anywhere.
        APPLICATIONINSIGHTS_CONNECTION_STRING=(
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"
        ),
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL="true",
    )
    assert json.loads(state) == [True, "OpenTelemetrySpan", "opentelemetry.sdk.trace", True]


def test_configure_is_off_and_cheap_without_a_connection_string() -> None:
    assert telemetry.configure(Settings()) is False
    span = telemetry.operation_span("get_api_root", "c0rrelation")
    span.set_tenant("t-1")
    span.set_status(500)
    span.end(500)
    assert span is telemetry.current_operation()  # the shared no-op span


@pytest.mark.parametrize(
    ("value", "arguments"),
    [
        ("ClientId=1111-2222;Authorization=AAD", {"client_id": "1111-2222"}),
        ("Authorization=AAD", {}),
        (" authorization = aad ", {}),
    ],
)
def test_entra_ingestion_uses_the_named_managed_identity(
    monkeypatch: pytest.MonkeyPatch, value: str, arguments: dict[str, str]
) -> None:
    import azure.identity

    class RecordingCredential:
        def __init__(self, **kwargs: str) -> None:
            self.kwargs = kwargs

    monkeypatch.setattr(azure.identity, "ManagedIdentityCredential", RecordingCredential)

    credential = telemetry.ingestion_credential(value)

    assert isinstance(credential, RecordingCredential)
    assert credential.kwargs == arguments


@pytest.mark.parametrize("value", ["", "ClientId=1111-2222", "Authorization=Key"])
def test_without_aad_ingestion_no_credential_is_used(value: str) -> None:
    assert telemetry.ingestion_credential(value) is None


def test_span_names_are_the_contracts_operation_ids() -> None:
    """The adapter names a span from its function's name; every operationId must survive that round trip."""
    contract = json.loads((ROOT / "shared" / "openapi.json").read_text(encoding="utf-8"))
    operation_ids = [
        operation["operationId"]
        for item in contract["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(operation_ids) > 100
    for operation_id in operation_ids:
        function_name = re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
        assert telemetry.operation_name(function_name) == operation_id
