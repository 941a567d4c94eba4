"""API root, build identity, the contract document and the self-hosted Swagger UI."""
