"""The Cosmos schema of the registry: the database and every declared container, created if missing.

In Azure, infra/ creates them (the app's identity has data-plane rights only). Locally the
emulator keeps everything in memory, so the dev host and, in local environments, the readiness
probe create them again after an emulator restart.
"""

from __future__ import annotations

from shared.platform.settings import Settings, get_settings
from shared.platform.store import cosmos, registry


def ensure_cosmos_schema(settings: Settings | None = None) -> int:
    """Create the database and each declared container that is missing; returns the container count."""
    from azure.cosmos import PartitionKey

    settings = settings or get_settings()
    database = cosmos.get_client().create_database_if_not_exists(id=settings.cosmos_database)
    for spec in registry.CONTAINERS:
        options = {} if spec.default_ttl is None else {"default_ttl": spec.default_ttl}
        database.create_container_if_not_exists(
            id=spec.name, partition_key=PartitionKey(path=spec.partition_key), **options
        )
    return len(registry.CONTAINERS)
