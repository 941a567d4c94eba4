"""The streamed CSV export: header, BOM, RFC 4180 round trip, formula neutralisation, bounded memory."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.leads import documents, export, scoring
from tests.unit.leads.support import NOW, contact_body, lead_body

HOSTILE = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "  =cmd|' /C calc'!A0",
    "\uff1d1+1",
    "=",
]


def stored_lead(index: int = 0, **overrides) -> dict:
    body = lead_body(email=f"prospect{index}@acme.com", **overrides)
    lead = documents.new_lead(
        documents.to_submission("lead", body), lead_id=f"LEAD-{index:0>8}", tenant_id="t", now=NOW
    )
    return scoring.scored(lead)


def parse(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def live_formula(value: str) -> bool:
    return value.lstrip(" \u00a0\u3000")[:1] in export.FORMULA_TRIGGERS


def test_the_header_is_stable():
    # Consumers (spreadsheets, CRM imports) map columns by name: append new ones, never reorder or rename.
    assert export.HEADER == (
        "leadId", "createdAt", "updatedAt", "status", "score", "tier", "scoreLabel", "name", "email", "company",
        "role", "phone", "source", "sourcePath", "referrer", "utmSource", "utmMedium", "utmCampaign", "scenarioId",
        "scenarioTitle", "sessionId", "sessionDurationSeconds", "toolsInvoked", "beatsCompleted", "totalBeats",
        "reachedResults", "sources", "scenariosTried", "submissionCount", "lastSubmittedAt", "primaryInterest",
        "currentSystem", "implementationTimeline", "companySize", "message", "hubspotContactId", "hubspotDealId",
        "previousMidDemoLeadId",
    )  # fmt: skip


def test_an_empty_export_is_the_bom_and_the_header():
    data = b"".join(export.csv_chunks([]))
    assert data == b"\xef\xbb\xbf" + ",".join(export.HEADER).encode() + b"\r\n"


def test_a_lead_round_trips_through_the_csv_module():
    lead = stored_lead(7)
    rows = parse(b"".join(export.csv_chunks([lead])))
    assert rows[0] == list(export.HEADER)
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["leadId"] == "LEAD-00000007" and record["email"] == "prospect7@acme.com"
    assert record["score"] == str(lead["score"]) and record["tier"] == lead["tier"]
    assert record["toolsInvoked"] == "lookup_policy; create_claim"
    assert record["reachedResults"] == "true" and record["sessionDurationSeconds"] == "240"
    assert record["sources"] == "demo-results" and record["scenariosTried"] == "insurance-fnol"
    assert record["submissionCount"] == "1" and record["previousMidDemoLeadId"] == ""


def test_lines_end_with_crlf_and_awkward_text_survives():
    awkward = 'Quote " comma , newline\nand CRLF\r\nend — اردو ✓'
    lead = documents.new_lead(
        documents.to_submission("contact", contact_body(message=awkward, company='Acme, "Inc"')),
        lead_id="LEAD-22222222",
        tenant_id="t",
        now=NOW,
    )
    data = b"".join(export.csv_chunks([scoring.scored(lead)]))
    assert data.count(b"\r\n") >= 2 and not data.replace(b"\r\n", b"").count(b"\r")
    record = dict(zip(*parse(data), strict=True))
    assert record["message"] == 'Quote " comma , newline\nand CRLF\nend — اردو ✓'
    assert record["company"] == 'Acme, "Inc"'


@pytest.mark.parametrize("payload", HOSTILE)
def test_formula_cells_are_neutralised(payload):
    lead = stored_lead(1, name=payload, company=payload, toolsInvoked=[payload, "ok"])
    lead["interest"] = {"message": payload}
    lead["scenarios"] = [payload]
    rows = parse(b"".join(export.csv_chunks([lead])))
    assert not [value for value in itertools.chain.from_iterable(rows) if live_formula(value)]
    record = dict(zip(*rows, strict=True))
    for column in ("company", "message", "toolsInvoked", "scenariosTried"):
        assert record[column].startswith("'"), column


def test_neutralize_and_cell():
    assert export.neutralize("=1+1") == "'=1+1"
    assert export.neutralize("  @x") == "'  @x"
    assert export.neutralize("Jane") == "Jane" and export.neutralize("") == ""
    assert export.neutralize("a=b") == "a=b"
    assert export.cell(None) == "" and export.cell(True) == "true" and export.cell(3.0) == "3"
    assert export.cell(2.5) == "2.5" and export.cell(float("nan")) == "" and export.cell({"x": 1}) == ""
    assert export.cell("a\x00b\x1bc") == "abc"
    assert len(export.cell("x" * 100_000)) == export.MAX_CELL_CHARS


def test_missing_and_odd_fields_do_not_break_a_row():
    rows = parse(b"".join(export.csv_chunks([{"leadId": "LEAD-33333333", "contact": "not a mapping", "demo": None}])))
    assert len(rows[1]) == len(export.HEADER) and rows[1][0] == "LEAD-33333333"


def test_chunks_are_bounded_and_join_to_the_same_file():
    leads = [stored_lead(i) for i in range(300)]
    small = list(export.csv_chunks(leads, chunk_bytes=4096))
    assert len(small) > 10
    assert all(len(chunk) < 4096 + 4096 for chunk in small)
    assert b"".join(small) == b"".join(export.csv_chunks(leads))
    assert len(parse(b"".join(small))) == 301


def test_the_documents_are_consumed_lazily():
    consumed = 0

    def leads():
        nonlocal consumed
        for index in itertools.count():
            consumed += 1
            yield stored_lead(index)

    chunks = export.csv_chunks(leads(), chunk_bytes=2048)
    next(chunks)
    assert consumed < 20, "the first chunk must not wait for the whole iterable"


def test_ten_thousand_leads_export_in_bounded_memory():
    template = stored_lead(0)
    template["interest"] = {"message": "Tell me more about intake automation for our clinics. " * 5}

    def leads():
        for index in range(10_000):
            yield {
                **template,
                "leadId": f"LEAD-{index:0>8}",
                "contact": {**template["contact"], "email": f"p{index}@acme.com"},
            }

    gc.collect()
    tracemalloc.start()
    try:
        total = rows = 0
        for chunk in export.csv_chunks(leads()):
            total += len(chunk)
            rows += chunk.count(b"\r\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 10_001
    assert total > 5_000_000, "the file itself is several megabytes"
    assert peak < 1_000_000, f"peak {peak} bytes: the export must stream, not build the file"


def test_the_filename_is_dated_and_safe():
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 2026-03-02 in UTC
    assert export.export_filename("default-practice", moment) == "tellgence-leads-default-practice-2026-03-02.csv"
    assert export.export_filename('Acme "Clinic";\r\nX: 1', moment) == "tellgence-leads-acme-clinic-x-1-2026-03-02.csv"
    assert export.export_filename("///", moment) == "tellgence-leads-tenant-2026-03-02.csv"
    today = datetime.now(UTC).date().isoformat()
    assert export.content_disposition("t1") == f'attachment; filename="tellgence-leads-t1-{today}.csv"'
