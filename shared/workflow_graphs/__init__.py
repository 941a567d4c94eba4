"""Workflow graphs as pure models: the node vocabulary, validation, ordering and a readable description (no I/O)."""
