"""Process-wide state that must be forgotten together when the environment changes."""

from __future__ import annotations


def reset_process_state() -> None:
    """Re-read settings and drop every client and cache built from the old ones (dev host, tests)."""
    from shared.flags import service as flags
    from shared.identity import service as identity
    from shared.platform import outbound
    from shared.platform.settings import reload_settings
    from shared.platform.store import blobs, clients, cosmos, queues
    from shared.realtime import provider
    from shared.tenants import service as tenants

    reload_settings()
    cosmos.reset()
    blobs.reset()
    queues.reset()
    clients.reset()
    outbound.reset()
    # The managed-identity token provider was built for the old settings' credential chain.
    provider.reset()
    identity.clear_caches()
    tenants.clear_caches()
    flags.forget()
