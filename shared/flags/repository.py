"""Persistence of flag states (partition `flags`, id = flag name) and tenant overrides (`overrides:<flag>`)."""

from __future__ import annotations

from shared.platform.store.repository import Document, Repository

FLAGS_SCOPE = "flags"


def overrides_scope(name: str) -> str:
    """The partition of one flag's tenant overrides."""
    return f"overrides:{name}"


class FlagRepository(Repository):
    """Stored flag states and overrides, one container partitioned by `/scope`."""

    container_name = "feature_flags"
    doc_type = "featureFlag"

    def states(self) -> list[Document]:
        """Every stored flag state (one partition)."""
        return self.query("SELECT * FROM c WHERE c.scope = @scope", {"scope": FLAGS_SCOPE}, FLAGS_SCOPE)

    def state(self, name: str) -> Document | None:
        """One flag's stored state (point read)."""
        return self.read(name, FLAGS_SCOPE)

    def overrides(self, name: str, limit: int = 5000) -> list[Document]:
        """A flag's tenant overrides, by tenant id (one partition)."""
        scope = overrides_scope(name)
        return self.query(
            "SELECT * FROM c WHERE c.scope = @scope ORDER BY c.tenantId", {"scope": scope}, scope, limit=limit
        )
