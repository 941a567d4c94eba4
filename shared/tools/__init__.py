"""Tool execution: the registry tools run under policy, approval, idempotency and retries, journaled in Cosmos."""
