"""The platform every domain stands on: settings, errors, clock, the HTTP adapter, the store and storage."""
