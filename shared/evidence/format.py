"""The pack format's fixed names and derived values, shared by the builder and the offline verifier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.evidence.canonical import canonical_sha256

BUNDLE_VERSION = "1"
SIGNATURE_ALGORITHM = "ed25519"
# The bundle's arrays, in the order manifests count them and PDFs list their digests.
SECTIONS = ("transcript", "reasoning", "toolCalls", "systemUpdates", "approvals")
COUNT_NAMES = {
    "transcript": "transcriptItems",
    "reasoning": "reasoningEntries",
    "toolCalls": "toolCalls",
    "systemUpdates": "systemUpdates",
    "approvals": "approvals",
}


def counts(bundle: Mapping[str, Any]) -> dict[str, int]:
    """The manifest's counts of each section."""
    return {COUNT_NAMES[section]: len(bundle.get(section) or []) for section in SECTIONS}


def pack_sha256(bundle: Mapping[str, Any], signature: Mapping[str, Any]) -> str:
    """manifest.packSha256: sha256 of the RFC 8785 form of {"bundle": ..., "signature": ...}."""
    return canonical_sha256({"bundle": bundle, "signature": signature})
