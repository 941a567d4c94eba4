"""Cosmos DB access: the client provider, the container registry and the base repository."""
