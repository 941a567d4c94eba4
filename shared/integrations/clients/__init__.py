"""Protocol clients of the integration providers, one module per protocol (see catalog `client`)."""
