"""A tenant's voice channels."""
