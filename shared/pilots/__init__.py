"""Pilots: lifecycle, ISO weeks, weekly snapshots and attestation tokens."""
