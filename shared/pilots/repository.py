"""Persistence of pilots: one container (`pilots`, partition /tenantId), one item per thing, each with its pilotId.

Item types (the `type` field):

    pilot                   the pilot (id = pilotId)
    pilotNote               an append-only note (id = note-<hex>)
    pilotContract           the current commercial terms (id = <pilotId>:contract), with `version`
    pilotContractVersion    every version ever stored, never changed (id = <pilotId>:contract:v<n>)
    pilotRoi                the current ROI assumptions (id = <pilotId>:roi), with `version`
    pilotRoiVersion         every version ever stored (id = <pilotId>:roi:v<n>)
    pilotSnapshot           one week's numbers (id = <pilotId>:<weekId>; a recompute replaces it)
    pilotAttestation        the customer's attestation of one week (id = <pilotId>:<weekId>:attestation, once)

Because every item carries its pilotId, a pilot with everything the console shows is one single-partition
query. Every query names the tenant in its WHERE clause as well as in its partition key (the local emulator
ignores the latter).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.platform.store.repository import CrossPartitionReader, Document, Repository

PILOT = "pilot"
NOTE = "pilotNote"
CONTRACT = "pilotContract"
CONTRACT_VERSION = "pilotContractVersion"
ROI = "pilotRoi"
ROI_VERSION = "pilotRoiVersion"
SNAPSHOT = "pilotSnapshot"
ATTESTATION = "pilotAttestation"

# What the pilot page shows: the pilot, its notes, its current contract and ROI, its snapshots.
VIEW_TYPES = (PILOT, NOTE, CONTRACT, ROI, SNAPSHOT)
MAX_ITEMS_READ = 2_000
LIST_LIMIT = 200
MAX_NOTES_READ = 1_000
ACTIVE_PAGE = 1_000


def contract_id(pilot_id: str) -> str:
    """The id of a pilot's current contract document."""
    return f"{pilot_id}:contract"


def roi_id(pilot_id: str) -> str:
    """The id of a pilot's current ROI assumptions."""
    return f"{pilot_id}:roi"


def version_id(current_id: str, version: int) -> str:
    """The id of one stored version of a contract or ROI document."""
    return f"{current_id}:v{version}"


def attestation_id(pilot_id: str, week_id: str) -> str:
    """The one attestation item of a pilot's week (creating it twice is a conflict)."""
    return f"{pilot_id}:{week_id}:attestation"


class PilotRepository(Repository):
    """Pilots and their items in their tenant's partition."""

    container_name = "pilots"
    doc_type = PILOT

    def items_of(self, tenant_id: str, pilot_id: str, types: tuple[str, ...] = VIEW_TYPES) -> list[Document]:
        """A pilot's items of the given types, oldest first (one single-partition query)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.pilotId = @pilotId AND ARRAY_CONTAINS(@types, c.type)"
            " ORDER BY c.createdAt",
            {"tenantId": tenant_id, "pilotId": pilot_id, "types": list(types)},
            tenant_id,
            limit=MAX_ITEMS_READ,
        )

    def with_ids(self, tenant_id: str, pilot_id: str, types: tuple[str, ...], ids: list[str]) -> list[Document]:
        """A pilot's items of `types` plus the items with `ids` (one single-partition query)."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.pilotId = @pilotId"
            " AND (ARRAY_CONTAINS(@types, c.type) OR ARRAY_CONTAINS(@ids, c.id))",
            {"tenantId": tenant_id, "pilotId": pilot_id, "types": list(types), "ids": ids},
            tenant_id,
            limit=MAX_ITEMS_READ,
        )

    def pilots_of(self, tenant_id: str, filters: dict[str, Any]) -> list[Document]:
        """The tenant's pilots matching the equality filters, newest first (at most LIST_LIMIT)."""
        where = ["c.tenantId = @tenantId", "c.type = @type"]
        params: dict[str, Any] = {"tenantId": tenant_id, "type": PILOT}
        for name, value in filters.items():
            where.append(f"c.{name} = @{name}")
            params[name] = value
        return self.query(
            f"SELECT * FROM c WHERE {' AND '.join(where)} ORDER BY c.createdAt DESC",
            params,
            tenant_id,
            limit=LIST_LIMIT,
        )

    def notes_of(self, tenant_id: str, pilot_ids: list[str]) -> list[Document]:
        """The notes of several pilots of one tenant, oldest first."""
        if not pilot_ids:
            return []
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = @type AND ARRAY_CONTAINS(@ids, c.pilotId)"
            " ORDER BY c.createdAt",
            {"tenantId": tenant_id, "type": NOTE, "ids": pilot_ids},
            tenant_id,
            limit=MAX_NOTES_READ,
        )

    def snapshots_of(self, tenant_id: str, pilot_id: str) -> list[Document]:
        """A pilot's weekly snapshots, oldest week first."""
        return self.query(
            "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.pilotId = @pilotId AND c.type = @type"
            " ORDER BY c.weekId",
            {"tenantId": tenant_id, "pilotId": pilot_id, "type": SNAPSHOT},
            tenant_id,
            limit=MAX_ITEMS_READ,
        )

    def in_status_everywhere(self, statuses: list[str]) -> Iterator[Document]:
        """(tenantId, pilotId) of every pilot in `statuses` across tenants, page by page: the weekly timer only."""
        return CrossPartitionReader(self).stream(
            "SELECT c.tenantId, c.pilotId FROM c WHERE c.type = @type AND ARRAY_CONTAINS(@statuses, c.status)",
            {"type": PILOT, "statuses": statuses},
            page_size=ACTIVE_PAGE,
        )
