"""Not an open relay, not a flood sink: daily limits per email recipient and per submitted address.

Besides the per-client limits each operation declares (HTTP adapter), two counters are keyed by address, so
a caller rotating client addresses is still held:

* PROSPECT_EMAILS: emails sent to one prospect address (session summaries and transcripts) per UTC day;
* SUBMISSIONS: lead and contact submissions for one address in one tenant per UTC day.

Both are fixed-window counters of `shared.platform.ratelimit` (one server-side increment per request), keyed
by a SHA-256 of the address so no address is stored in a counter. `RATE_LIMITS` overrides them by name
(`prospect_email_recipient=5/86400,lead_submission_address=20/86400`). A spent budget is a 429 with
`Retry-After`, raised before anything is stored or queued.
"""

from __future__ import annotations

import hashlib

from shared.platform.ratelimit import service as ratelimit
from shared.platform.ratelimit.service import RateLimit

DAY_SECONDS = 24 * 60 * 60
PROSPECT_EMAILS = ("prospect_email_recipient", RateLimit(limit=5, window_seconds=DAY_SECONDS))
SUBMISSIONS = ("lead_submission_address", RateLimit(limit=20, window_seconds=DAY_SECONDS))


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()


def count_prospect_email(address: str) -> None:
    """Count one email to `address`; TooManyRequests once its daily budget is spent."""
    name, rule = PROSPECT_EMAILS
    ratelimit.hit(name, _digest(address.lower()), rule)


def count_submission(tenant_id: str, email_key: str) -> None:
    """Count one lead submission for an address in a tenant; TooManyRequests once its daily budget is spent."""
    name, rule = SUBMISSIONS
    ratelimit.hit(name, _digest(tenant_id, email_key), rule)
