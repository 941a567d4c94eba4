"""Tellgence application core: settings, errors, the HTTP adapter, storage and domains."""
