"""The raw SDK floor: azure-cosmos point reads, creates and replaces with the app's own client.

The client comes from `shared.platform.store.clients`, so it has exactly the options the app's has
(timeouts, retries, TLS settings for the emulator). The documents are copies of a real session
document, so the floor is measured on the size of document the operations move.
"""

from __future__ import annotations

import copy
import time
import uuid
from typing import Any

SYSTEM_KEYS = ("_rid", "_self", "_ts", "_attachments", "_etag")


class RawFloor:
    """Timed raw SDK calls against one container, on copies of one template document."""

    def __init__(self, container_name: str, template: dict[str, Any], partition_field: str) -> None:
        from shared.platform.store import cosmos

        self.container = cosmos.get_container(container_name)
        self.partition_field = partition_field
        self.template = {key: value for key, value in template.items() if key not in SYSTEM_KEYS}
        self._read_target = self._create_copy()
        self._replace_target = self._create_copy()

    def _new_copy(self) -> dict[str, Any]:
        doc = copy.deepcopy(self.template)
        doc["id"] = f"bench-floor-{uuid.uuid4().hex}"
        return doc

    def _partition(self, doc: dict[str, Any]) -> Any:
        return doc[self.partition_field]

    def _create_copy(self) -> dict[str, Any]:
        return dict(self.container.create_item(self._new_copy()))

    def read_ms(self) -> float:
        """One point read of an existing document."""
        target = self._read_target
        started = time.perf_counter()
        self.container.read_item(target["id"], partition_key=self._partition(target))
        return (time.perf_counter() - started) * 1000

    def create_ms(self) -> float:
        """One create of a new document."""
        doc = self._new_copy()
        started = time.perf_counter()
        self.container.create_item(doc)
        return (time.perf_counter() - started) * 1000

    def replace_ms(self) -> float:
        """One ETag-conditional replace, as the app's writers do it."""
        from azure.core import MatchConditions

        target = self._replace_target
        body = {key: value for key, value in target.items() if key not in SYSTEM_KEYS}
        started = time.perf_counter()
        written = self.container.replace_item(
            target["id"], body, etag=target["_etag"], match_condition=MatchConditions.IfNotModified
        )
        elapsed = (time.perf_counter() - started) * 1000
        self._replace_target = dict(written)
        return elapsed
