"""Retention: once a session's artifact retention has run out, its personal content is removed (its stored
evidence packs and PDFs included)."""

from __future__ import annotations

import logging

from shared.platform import clock, events
from shared.platform.store.repository import Document
from shared.sessions import aggregate

logger = logging.getLogger("tellgence.sessions.retention")

PURGE_BATCH = 200


def redact(doc: Document, now: str) -> None:
    """Strip transcript, extracted data and contact details; keep the metadata results are built on."""
    doc["transcript"] = []
    doc["extractedData"] = {}
    summary = doc.get("interactionSummary")
    if isinstance(summary, dict):
        summary.pop("contact", None)
        summary.pop("summary", None)
    snapshot = doc.get("realtimeSnapshot")
    if isinstance(snapshot, dict):
        snapshot.pop("sessionHints", None)
    retention = doc.get("consentRetention") or {}
    retention["redacted"] = True
    doc["consentRetention"] = retention
    doc["purgedAt"] = now


def purge_expired(now: str | None = None) -> int:
    """Redact every session whose retention expired (the daily timer); returns how many were redacted."""
    now = now or clock.now_iso()
    purged = 0
    for doc in aggregate.expired_for_purge(now, PURGE_BATCH):
        # Artifacts built from the session (evidence packs, PDFs) hold the transcript too: they go first (a
        # failure leaves the session unpurged, so the next run tries again) and once more after the redaction,
        # in case a request rendered one from the unredacted copy in between.
        events.publish("session.purging", doc, strict=True)
        redacted = aggregate.update(
            doc["tenantId"], doc["id"], lambda current: redact(current, now), include_expired=True
        )
        events.publish("session.purged", redacted)
        purged += 1
    if purged:
        logger.info("retention purge redacted %d session(s)", purged)
    return purged
