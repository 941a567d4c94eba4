"""The lead desk's CSV export, streamed: a generator of byte chunks over any iterable of lead documents.

* RFC 4180 through the `csv` module: CRLF line ends, fields quoted when they hold a comma, quote or line break.
* A stable header row (HEADER; new columns are only ever appended), written first, after the UTF-8 byte order
  mark so spreadsheet programs open the file as UTF-8.
* Formula injection neutralised: a cell whose text begins with `=`, `+`, `-`, `@`, tab or CR (or their
  full-width forms, or any of these after leading spaces) is prefixed with a single quote, so no spreadsheet
  evaluates it. Other control characters are dropped.
* Memory is bounded by one chunk (CHUNK_BYTES) plus one row, whatever the number of leads: the documents are
  consumed one at a time and each chunk is handed on before the next is built.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from shared.platform import clock

BOM = "\ufeff"
CHUNK_BYTES = 64 * 1024
LIST_SEPARATOR = "; "
MAX_CELL_CHARS = 32_000  # below the 32,767 characters a spreadsheet cell holds

FORMULA_TRIGGERS = frozenset("=+-@\t\r") | frozenset("\uff1d\uff0b\uff0d\uff20")
_LEADING_BLANKS = " \u00a0\u3000"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FILENAME_UNSAFE = re.compile(r"[^a-z0-9-]+")


def _get(path: str) -> Callable[[Mapping[str, Any]], Any]:
    head, _, tail = path.partition(".")

    def read(lead: Mapping[str, Any]) -> Any:
        value = lead.get(head)
        return value.get(tail) if tail and isinstance(value, Mapping) else (None if tail else value)

    return read


# (column header, lead document path); the order is the file's column order.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("leadId", "leadId"),
    ("createdAt", "createdAt"),
    ("updatedAt", "updatedAt"),
    ("status", "status"),
    ("score", "score"),
    ("tier", "tier"),
    ("scoreLabel", "scoreLabel"),
    ("name", "contact.name"),
    ("email", "contact.email"),
    ("company", "contact.company"),
    ("role", "contact.role"),
    ("phone", "contact.phone"),
    ("source", "attribution.source"),
    ("sourcePath", "attribution.sourcePath"),
    ("referrer", "attribution.referrer"),
    ("utmSource", "attribution.utmSource"),
    ("utmMedium", "attribution.utmMedium"),
    ("utmCampaign", "attribution.utmCampaign"),
    ("scenarioId", "demo.scenarioId"),
    ("scenarioTitle", "demo.scenarioTitle"),
    ("sessionId", "demo.sessionId"),
    ("sessionDurationSeconds", "demo.sessionDurationSeconds"),
    ("toolsInvoked", "demo.toolsInvoked"),
    ("beatsCompleted", "demo.beatsCompleted"),
    ("totalBeats", "demo.totalBeats"),
    ("reachedResults", "demo.reachedResults"),
    ("sources", "sources"),
    ("scenariosTried", "scenarios"),
    ("submissionCount", "submissionCount"),
    ("lastSubmittedAt", "lastSubmittedAt"),
    ("primaryInterest", "interest.primaryInterest"),
    ("currentSystem", "interest.currentSystem"),
    ("implementationTimeline", "interest.implementationTimeline"),
    ("companySize", "interest.companySize"),
    ("message", "interest.message"),
    ("hubspotContactId", "crm.hubspotContactId"),
    ("hubspotDealId", "crm.hubspotDealId"),
    ("previousMidDemoLeadId", "previousMidDemoLeadId"),
)
HEADER: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
_READERS = tuple(_get(path) for _, path in COLUMNS)


def neutralize(text: str) -> str:
    """`text` safe for a spreadsheet cell: a leading formula trigger gets a single-quote prefix."""
    # Some spreadsheets skip leading spaces before deciding that a cell is a formula.
    return "'" + text if text.lstrip(_LEADING_BLANKS)[:1] in FORMULA_TRIGGERS else text


def cell(value: Any) -> str:
    """One CSV cell of a document value: text as is, numbers plainly, lists joined, booleans true/false."""
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = "" if not math.isfinite(value) else (str(int(value)) if value.is_integer() else repr(value))
    elif isinstance(value, list | tuple):
        text = LIST_SEPARATOR.join(cell(item) for item in value if item is not None and not isinstance(item, Mapping))
        return neutralize(text[:MAX_CELL_CHARS])
    elif isinstance(value, str):
        text = value
    else:
        text = ""  # nested objects have no column of their own
    return neutralize(_CONTROL.sub("", text)[:MAX_CELL_CHARS])


def row(lead: Mapping[str, Any]) -> list[str]:
    """The cells of one lead document, in HEADER order."""
    return [cell(read(lead)) for read in _READERS]


def csv_chunks(leads: Iterable[Mapping[str, Any]], *, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The CSV file as UTF-8 byte chunks of about `chunk_bytes`: BOM and header first, then one row per lead."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    buffer.write(BOM)
    writer.writerow(HEADER)
    for lead in leads:
        writer.writerow(row(lead))
        if buffer.tell() >= chunk_bytes:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate(0)
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def export_filename(tenant_id: str, moment: datetime | None = None) -> str:
    """`tellgence-leads-<tenant>-<YYYY-MM-DD>.csv` (UTC date; the tenant reduced to a-z, 0-9 and hyphens)."""
    day = (moment or clock.utc_now()).astimezone(UTC).date().isoformat()
    tenant = _FILENAME_UNSAFE.sub("-", tenant_id.lower()).strip("-")[:64] or "tenant"
    return f"tellgence-leads-{tenant}-{day}.csv"


def content_disposition(tenant_id: str, moment: datetime | None = None) -> str:
    """The Content-Disposition header value of the export: an attachment with the dated filename."""
    return f'attachment; filename="{export_filename(tenant_id, moment)}"'
