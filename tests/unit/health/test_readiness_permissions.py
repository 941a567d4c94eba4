"""Readiness asks storage only what the app's least-privilege roles allow, so it is true in Azure.

The storage account is a fake behind the real SDK clients (tests/support/fake_storage.py): each REST
call is checked against the Azure RBAC action it needs and the built-in roles infra/main.bicep grants.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError

from shared.health import service as health
from shared.platform.settings import Settings
from shared.platform.store import clients, queues, registry
from tests.support.fake_storage import APP_ROLES, FakeStorageAccount

SETTINGS = Settings(
    app_env="dev",
    storage_blob_uri="https://sttellgencefake.blob.core.windows.net/",
    storage_queue_uri="https://sttellgencefake.queue.core.windows.net/",
)


def deployed_account(**overrides: object) -> FakeStorageAccount:
    """The account as infra/main.bicep leaves it: every declared container, every queue and its poison queue."""
    queue_names = {name: 0 for name in registry.QUEUES} | {f"{name}-poison": 0 for name in registry.QUEUES}
    return FakeStorageAccount(containers=set(registry.BLOB_CONTAINERS), queues=queue_names, **overrides)


@pytest.fixture
def use_account(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Point the app's Blob and Queue clients at a fake account (the same clients readiness uses)."""

    def install(account: FakeStorageAccount) -> FakeStorageAccount:
        monkeypatch.setitem(clients._clients, "blob", account.blob_service())
        monkeypatch.setitem(clients._clients, "queue", account.queue_service())
        queues._queues.clear()
        return account

    yield install
    queues._queues.clear()


def test_readiness_is_ok_with_only_the_granted_roles(use_account) -> None:
    account = use_account(deployed_account())

    results = [health.check_blobs(SETTINGS), health.check_queues(SETTINGS)]

    assert [(r.name, r.ok, r.status) for r in results] == [
        ("storage_blobs", True, "ok"),
        ("storage_queues", True, "ok"),
    ]
    assert account.refused == []


def test_readiness_reads_exactly_the_declared_containers_and_queues(use_account) -> None:
    account = use_account(deployed_account())

    health.check_blobs(SETTINGS)
    health.check_queues(SETTINGS)

    expected = [("blob", "GET", f"/{name}?restype=container") for name in registry.BLOB_CONTAINERS] + [
        ("queue", "GET", f"/{name}?comp=metadata") for name in registry.QUEUES
    ]
    assert account.calls == expected
    assert not any("restype=service" in path for _, _, path in account.calls), "no service-level call"


@pytest.mark.parametrize("service", ["blob", "queue"])
def test_service_properties_are_refused_to_the_app_identity(use_account, service: str) -> None:
    """Why readiness must not read service properties: no data role grants blobServices/read or queueServices/read."""
    account = use_account(deployed_account())
    client = account.blob_service() if service == "blob" else account.queue_service()

    with pytest.raises(HttpResponseError) as refused:
        client.get_service_properties()

    assert refused.value.status_code == 403
    assert account.refused == [f"Microsoft.Storage/storageAccounts/{service}Services/read"]


def test_a_missing_queue_is_named(use_account) -> None:
    account = deployed_account()
    del account.queues[registry.QUEUES[-1]]
    use_account(account)

    result = health.check_queues(SETTINGS)

    assert (result.ok, result.status) == (False, "missing")
    assert repr(registry.QUEUES[-1]) in result.message


def test_a_missing_role_reads_as_forbidden_not_down(use_account) -> None:
    use_account(deployed_account(roles=tuple(role for role in APP_ROLES if role != "Storage Queue Data Contributor")))

    result = health.check_queues(SETTINGS)

    assert (result.ok, result.status) == (False, "forbidden")
    assert "AuthorizationPermissionMismatch" in result.message


def test_unconfigured_storage_is_reported_as_such(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clients, "_clients", {})
    monkeypatch.setattr(clients, "get_settings", lambda: Settings(app_env="dev"))

    result = health.check_blobs(Settings(app_env="dev"))

    assert (result.ok, result.status) == (False, "not_configured")


def test_poison_queue_depths_use_the_same_permission(use_account) -> None:
    account = deployed_account()
    account.queues[f"{registry.EMAILS_QUEUE}-poison"] = 3
    use_account(account)

    depths = health.poison_queue_depths()

    assert depths[f"{registry.EMAILS_QUEUE}-poison"] == 3
    assert set(depths) == {f"{name}-poison" for name in registry.QUEUES}
    assert account.refused == []


def test_the_operability_probe_logs_poisoned_messages(
    use_account, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    account = deployed_account()
    account.queues[f"{registry.EMAILS_QUEUE}-poison"] = 2
    use_account(account)
    passing = health.CheckResult("cosmos", True, "ok", "database reachable")
    monkeypatch.setattr(health, "run_checks", lambda settings=None: [passing])

    with caplog.at_level(logging.WARNING, logger="tellgence.health"):
        report = health.report_operability()

    assert report == {
        "ready": True,
        "poisonDepths": {f"{n}-poison": (2 if n == "emails" else 0) for n in registry.QUEUES},
    }
    assert "poison queue emails-poison holds 2 message(s)" in caplog.text
