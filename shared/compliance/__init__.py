"""Compliance: per-tenant control items by framework, seeded from a versioned control catalog."""
