"""The base repository against the Cosmos emulator: reads, queries, paging, conflicts, ETags."""

from __future__ import annotations

import uuid

import pytest

from shared.platform.errors import Conflict, NotFound, PreconditionFailed
from shared.platform.store import cosmos
from shared.platform.store.repository import Repository
from tests.support.concurrency import run_in_threads


class ItemRepository(Repository):
    container_name = "test_items"
    doc_type = "testItem"


@pytest.fixture(scope="module")
def repo(emulators) -> ItemRepository:
    from azure.cosmos import PartitionKey

    container = cosmos.get_database().create_container_if_not_exists("test_items", PartitionKey("/tenantId"))
    return ItemRepository(container)


@pytest.fixture
def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def test_create_stamps_type_and_schema_version_and_reads_back(repo, tenant):
    created = repo.create({"id": "a", "tenantId": tenant, "name": "Alpha"})
    assert created["type"] == "testItem"
    assert created["schemaVersion"] == 1
    assert created["_etag"]
    assert "_rid" not in created
    assert repo.read("a", tenant)["name"] == "Alpha"


def test_point_read_of_a_missing_item_is_none_and_get_raises(repo, tenant):
    assert repo.read("missing", tenant) is None
    with pytest.raises(NotFound, match="Widget not found"):
        repo.get("missing", tenant, what="Widget")


def test_the_same_id_in_another_partition_is_another_item(repo, tenant):
    repo.create({"id": "shared", "tenantId": tenant})
    assert repo.read("shared", tenant + "-other") is None


def test_create_twice_is_a_conflict(repo, tenant):
    repo.create({"id": "dup", "tenantId": tenant})
    with pytest.raises(Conflict):
        repo.create({"id": "dup", "tenantId": tenant})


def test_query_stays_in_its_partition_and_honours_limit(repo, tenant):
    for index in range(5):
        repo.create({"id": f"q{index}", "tenantId": tenant, "n": index})
    repo.create({"id": "q9", "tenantId": tenant + "-x", "n": 9})
    sql = "SELECT * FROM c WHERE c.tenantId = @tenantId ORDER BY c.n"
    items = repo.query(sql, {"tenantId": tenant}, tenant)
    assert [item["n"] for item in items] == [0, 1, 2, 3, 4]
    assert len(repo.query(sql, {"tenantId": tenant}, tenant, limit=2)) == 2


def test_paging_with_continuation_tokens_visits_every_item_once(repo, tenant):
    for index in range(7):
        repo.create({"id": f"p{index}", "tenantId": tenant, "n": index})
    sql = "SELECT * FROM c WHERE c.tenantId = @tenantId ORDER BY c.n"
    seen, token, pages = [], None, 0
    while True:
        page = repo.page(sql, {"tenantId": tenant}, tenant, page_size=3, continuation=token)
        seen.extend(item["n"] for item in page.items)
        pages += 1
        token = page.continuation
        if not token:
            break
    assert seen == list(range(7))
    assert pages == 3


def test_replace_with_a_stale_etag_is_refused(repo, tenant):
    first = repo.create({"id": "e", "tenantId": tenant, "v": 1})
    repo.replace({**first, "v": 2})
    with pytest.raises(PreconditionFailed):
        repo.replace({**first, "v": 3})
    assert repo.read("e", tenant)["v"] == 2


def test_concurrent_updates_lose_nothing(repo, tenant):
    repo.create({"id": "counter", "tenantId": tenant, "steps": []})
    workers = 8

    def append(step: int) -> None:
        repo.update("counter", tenant, lambda doc: doc["steps"].append(step))

    run_in_threads(append, [(step,) for step in range(workers)])
    assert sorted(repo.read("counter", tenant)["steps"]) == list(range(workers))


def test_update_of_a_missing_item_is_not_found(repo, tenant):
    with pytest.raises(NotFound):
        repo.update("nope", tenant, lambda doc: None)


def test_delete_reports_whether_it_removed_something(repo, tenant):
    repo.create({"id": "d", "tenantId": tenant})
    assert repo.delete("d", tenant) is True
    assert repo.delete("d", tenant) is False
