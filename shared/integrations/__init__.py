"""Integration providers and practice connectors."""
