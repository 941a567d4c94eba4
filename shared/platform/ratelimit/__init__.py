"""Fixed-window rate limits shared by every instance through Cosmos."""
