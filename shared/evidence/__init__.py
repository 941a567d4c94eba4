"""Signed evidence packs: RFC 8785 canonical bundles of a finished session, signed with ed25519."""
