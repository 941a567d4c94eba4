"""One module per OpenAPI tag, each exposing `bp`, a func.Blueprint of thin HTTP adapters."""
