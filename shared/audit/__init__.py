"""The immutable audit trail of control-plane mutations."""
