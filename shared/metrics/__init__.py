"""Metrics: rollups, latency histograms, dashboard views, the session feed and public SLOs."""
