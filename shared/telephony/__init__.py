"""Telephony: provider call events normalised into channel events, inbound and outbound calls."""
