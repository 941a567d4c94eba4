"""Test support: the contract validator and the in-process client over the dev host."""
