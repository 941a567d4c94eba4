"""The demo catalog: voices, personas, scenarios, vertical packs and the tool registry."""
