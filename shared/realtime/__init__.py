"""Realtime voice: persona selection, the Azure OpenAI client-secret call, runtime-session state and latency."""
