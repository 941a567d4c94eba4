"""Workflows of fast-start profiles: versioned graphs, drafts, published versions and triggered executions."""
