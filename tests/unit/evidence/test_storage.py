"""Blob names and the retention instant stored packs and PDFs carry."""

from __future__ import annotations

from shared.evidence import storage


def test_names_keep_each_session_under_its_own_prefix():
    assert storage.pack_blob_name("clinic", "s1", "ab" * 32, "0123456789abcdef") == (
        f"clinic/s1/{'ab' * 32}-0123456789abcdef.json"
    )
    assert storage.pdf_blob_name("clinic", "s1", "session-summary", "cd" * 32) == (
        f"clinic/s1/session-summary-{'cd' * 32}.pdf"
    )


def test_blobs_expire_with_the_sessions_artifacts_or_after_the_longest_retention():
    retention = {"consentRetention": {"artifactExpiresAt": "2026-06-01T00:00:00Z"}}
    assert storage.expires_at(retention) == "2026-06-01T00:00:00.000Z"
    assert storage.expires_at({"finalizedAt": "2026-01-01T00:00:00.000Z"}) == "2027-01-01T00:00:00.000Z"
    broken = {"consentRetention": {"artifactExpiresAt": "soon"}, "finalizedAt": "2026-01-01T00:00:00.000Z"}
    assert storage.expires_at(broken) == "2027-01-01T00:00:00.000Z"
