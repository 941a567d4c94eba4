"""PDF rendering (fpdf2) of a session summary and of an evidence pack.

Every catalog locale renders: Noto Sans carries Latin (Spanish and French accents), Noto Naskh Arabic is the
fallback for Arabic-script glyphs (Urdu), uharfbuzz shapes the text (joining forms) and fpdf2's bidi pass lays
right-to-left runs out right to left; a paragraph whose first strong character is right-to-left is right-aligned.
Lines are broken here, measuring each word once (fpdf2's line breaker re-measures and re-shapes a line for every
character it adds, which takes seconds for a long transcript), then drawn one cell per line; shaping is switched
on only for text that needs it (right-to-left letters, combining marks), and the Arabic fonts are loaded only
for documents that contain such text.
Long transcripts flow onto as many pages as they need. The output is deterministic for the same input (the
document date comes from the session or pack, not the clock), so callers can cache PDFs by content hash.
fpdf2 and the fonts are loaded on first use only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

FONT_DIR = Path(__file__).resolve().parent / "fonts"
MAIN_FONT, FALLBACK_FONT = "NotoSans", "NotoNaskhArabic"
MAIN_FONT_FILES = {"": "NotoSans-Regular.ttf", "B": "NotoSans-Bold.ttf"}
FALLBACK_FONT_FILES = {"": "NotoNaskhArabic-Regular.ttf", "B": "NotoNaskhArabic-Bold.ttf"}
LINE_HEIGHT = 5.6
LABEL_WIDTH = 48.0
MUTED, INK, ACCENT = (105, 110, 120), (20, 24, 31), (32, 86, 160)
ROLE_LABELS = {"user": "Caller", "assistant": "Agent", "agent": "Agent", "system": "System", "tool": "Tool"}
RTL_CLASSES = frozenset({"R", "AL"})
# Characters that only render correctly when shaped: right-to-left letters, Arabic digits, combining marks.
SHAPED_CLASSES = frozenset({"R", "AL", "AN", "NSM"})
# C0/C1 controls other than newline would reach the PDF as undefined glyphs.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
VERIFY_STEPS = (
    "1. Save the pack JSON (GET /api/sessions/{id}/evidence-packs) as pack.json.",
    "2. Get Tellgence's evidence public keys from Tellgence directly; check that the key id above is among them.",
    "3. Run: python -m shared.evidence verify pack.json --public-key tellgence-evidence-keys.pem",
    "   It prints VALID or INVALID and exits 0 or 1.",
    "4. Or, with OpenSSL 3: jq -j .canonicalJson pack.json > bundle.json; "
    "jq -r .signature.signatureB64 pack.json | openssl base64 -d -A > signature.bin; "
    "openssl pkeyutl -verify -pubin -inkey tellgence-evidence.pem -rawin -in bundle.json -sigfile signature.bin",
    "5. sha256sum bundle.json must print the bundle sha256 above. docs/EVIDENCE.md explains every step.",
)


def clean(text: Any) -> str:
    """Printable text: None as "", CR LF as LF, tabs as spaces, other control characters dropped."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    return _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "))


def is_rtl(text: str) -> bool:
    """Whether the paragraph's first strong character is right-to-left (Unicode bidi rule P2)."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in RTL_CLASSES:
            return True
        if direction == "L":
            return False
    return False


def needs_shaping(text: str) -> bool:
    """Whether a paragraph has characters that must be shaped (joined, reordered or mark-positioned)."""
    return any(unicodedata.bidirectional(char) in SHAPED_CLASSES for char in text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, child in value.items():
            yield str(key)
            yield from _strings(child)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def needs_arabic_fonts(*values: Any) -> bool:
    """Whether any string in the values has Arabic-script (or other right-to-left) characters."""
    return any(needs_shaping(text) for value in values for text in _strings(value))


def _document_date(*candidates: Any) -> datetime:
    from shared.platform.clock import parse_iso

    for value in candidates:
        if isinstance(value, str) and value:
            try:
                return parse_iso(value)
            except ValueError:
                continue
    return datetime(2000, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=1)
def _document_class() -> type:
    from fpdf import FPDF

    class Document(FPDF):
        """An A4 page with a footer naming the document and the page."""

        footer_text = ""

        def footer(self) -> None:
            # Called mid-paragraph on an automatic page break: keep that paragraph's shaping state intact.
            shaping, self.text_shaping = self.text_shaping, None
            self.set_y(-13)
            self.set_font(MAIN_FONT, size=7.5)
            self.set_text_color(*MUTED)
            self.cell(0, 5, f"{self.footer_text}   ·   page {self.page_no()}", align="C")
            self.text_shaping = shaping

    return Document


def new_document(title: str, footer: str, *, created: datetime, lang: str | None = None, arabic: bool = True) -> Any:
    """An fpdf2 document with the Unicode fonts (Noto Naskh Arabic as fallback when `arabic`) set up."""
    document = _document_class()(orientation="P", unit="mm", format="A4")
    # No "{nb}" total-pages alias: fpdf2 would substitute it inside transcript text too.
    document.alias_nb_pages(None)
    for style, file_name in MAIN_FONT_FILES.items():
        document.add_font(MAIN_FONT, style, str(FONT_DIR / file_name))
    if arabic:
        for style, file_name in FALLBACK_FONT_FILES.items():
            document.add_font(FALLBACK_FONT, style, str(FONT_DIR / file_name))
        # Each face falls back on the other: Latin inside Urdu text, Urdu inside Latin text.
        document.set_fallback_fonts([MAIN_FONT, FALLBACK_FONT], exact_match=False)
    document.set_auto_page_break(auto=True, margin=18)
    document.set_margins(18, 16, 18)
    document.set_creation_date(created)
    document.set_title(clean(title))
    document.set_author("Tellgence")
    document.set_creator("Tellgence API")
    if lang:
        document.set_lang(lang)
    document.footer_text = clean(footer)
    document.add_page()
    return document


def style(document: Any, font_style: str, size: float, color: tuple[int, int, int], text: str = "") -> None:
    """Set font, size and colour for `text`: Noto Naskh Arabic leads for right-to-left text, Noto Sans otherwise.

    With the Arabic face leading, the spaces between Urdu words come from the same font as the letters, so a
    line is one run to shape instead of one per word (several times faster for long Urdu transcripts).
    """
    family = MAIN_FONT
    if text and is_rtl(text) and FALLBACK_FONT.lower() in document.fonts:
        family = FALLBACK_FONT
    document.set_font(family, font_style, size)
    document.set_text_color(*color)


def shaping(document: Any, text: str) -> None:
    """Shape (with the paragraph's base direction) only text that needs it; plain text is measured as is."""
    if needs_shaping(text):
        document.set_text_shaping(True, direction="rtl" if is_rtl(text) else "ltr")
    else:
        document.set_text_shaping(False)


def wrap(document: Any, text: str, width: float) -> list[str]:
    """Greedy word wrap in the current font and shaping state; words wider than a line are cut by characters.

    fpdf2's own line breaker re-measures (and re-shapes) the whole line for every character it adds, which
    takes seconds for a long transcript; measuring each word once keeps it fast. Lines stay in logical order:
    each is laid out (bidi, shaping) when it is drawn.
    """
    room = max(width - 2 * document.c_margin, 1.0)
    measured: dict[str, float] = {}

    def measure(part: str) -> float:
        if part not in measured:
            measured[part] = document.get_string_width(part) if part else 0.0
        return measured[part]

    space, lines = measure(" "), []
    for raw in text.split("\n"):
        line, used = None, 0.0
        for word in raw.split(" "):
            size = measure(word)
            if line is not None and used + space + size <= room:
                line, used = f"{line} {word}", used + space + size
                continue
            if line is not None:
                lines.append(line)
            while size > room and len(word) > 1:
                cut = 1
                while cut < len(word) and measure(word[: cut + 1]) <= room:
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
                size = measure(word)
            line, used = word, size
        lines.append(line or "")
    return lines


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a row block: its width, text style and the text it holds."""

    width: float
    text: str
    font_style: str = ""
    size: float = 9.5
    color: tuple[int, int, int] = INK


def rows(document: Any, height: float, *columns: Column) -> None:
    """Columns of wrapped text side by side, a line at a time; a line that does not fit starts the next page.

    Text that reads right to left is right-aligned in its column.
    """
    laid_out = []
    for column in columns:
        style(document, column.font_style, column.size, column.color, column.text)
        shaping(document, column.text)
        align = "R" if is_rtl(column.text) else "L"
        laid_out.append((column, wrap(document, column.text, column.width), align))
    for index in range(max(len(lines) for _, lines, _ in laid_out)):
        if document.get_y() + height > document.page_break_trigger:
            document.add_page()
        document.set_x(document.l_margin)
        for column, lines, align in laid_out:
            line = lines[index] if index < len(lines) else ""
            style(document, column.font_style, column.size, column.color, column.text)
            shaping(document, column.text)
            document.cell(column.width, height, line, align=align, new_x="RIGHT", new_y="TOP")
        document.ln(height)
    document.set_text_shaping(False)


def full_width(document: Any) -> float:
    """The width between the margins."""
    return document.w - document.r_margin - document.l_margin


def paragraph(document: Any, text: str, *, height: float, font_style: str, size: float, color=INK) -> None:
    """A full-width paragraph (right-aligned when it reads right to left)."""
    rows(document, height, Column(full_width(document), clean(text), font_style, size, color))


def title(document: Any, heading: str, subtitle: str) -> None:
    """The document's title block."""
    paragraph(document, heading, height=9, font_style="B", size=18, color=ACCENT)
    if subtitle:
        paragraph(document, subtitle, height=7, font_style="", size=12, color=MUTED)
    document.ln(3)


def section(document: Any, heading: str) -> None:
    """A section heading, on a new page when too little room is left for its first lines."""
    if document.get_y() > document.h - 45:
        document.add_page()
    document.ln(3)
    paragraph(document, heading, height=7, font_style="B", size=13, color=ACCENT)
    document.set_draw_color(*ACCENT)
    document.line(document.l_margin, document.get_y(), document.w - document.r_margin, document.get_y())
    document.ln(2)


def field(document: Any, label: Any, value: Any) -> None:
    """A label and its value on one row; long values wrap in the value column."""
    rows(
        document,
        LINE_HEIGHT,
        Column(LABEL_WIDTH, clean(label), "B", 9.5, MUTED),
        Column(full_width(document) - LABEL_WIDTH, clean(value) or "—"),
    )


def text_block(document: Any, text: str, *, size: float = 9.5, color=INK) -> None:
    """A free paragraph (right-aligned when it reads right to left)."""
    paragraph(document, text, height=LINE_HEIGHT, font_style="", size=size, color=color)


def monospace_block(document: Any, text: str) -> None:
    """Hashes, signatures and keys: small type, cut anywhere since they have no spaces."""
    paragraph(document, text, height=4.4, font_style="", size=8)


def transcript(document: Any, turns: Sequence[Mapping[str, Any]], *, empty_note: str) -> None:
    """Each turn: who spoke, then what was said."""
    if not turns:
        text_block(document, empty_note, color=MUTED)
        return
    for index, turn in enumerate(turns, start=1):
        role = clean(turn.get("role"))
        speaker = ROLE_LABELS.get(role.lower(), role.capitalize() or "Speaker")
        paragraph(document, f"{index}. {speaker}", height=4.8, font_style="B", size=8.5, color=ACCENT)
        text_block(document, clean(turn.get("text")) or "—")
        document.ln(1.2)


def duration_text(seconds: Any) -> str:
    """Seconds as "3 min 05 s"."""
    try:
        total = max(0, round(float(seconds)))
    except (TypeError, ValueError):
        return "—"
    return f"{total // 60} min {total % 60:02d} s"


def results_fields(document: Any, results: Mapping[str, Any]) -> None:
    """Lead score and ROI, as stored at finalize."""
    if not results:
        text_block(document, "No results were computed for this session.", color=MUTED)
        return
    lead = results.get("leadScore") or {}
    if lead:
        label = clean(results.get("scoreLabel"))
        field(document, "Lead score", f"{lead.get('score', '—')} / 100 · {lead.get('tier', '—')}  {label}".strip())
    roi = results.get("roiBreakdown") or {}
    if roi:
        field(document, "ROI grade", roi.get("grade"))
        field(
            document, "Time saved", f"{roi.get('timeSavedMinutes', 0)} min of {roi.get('manualTimeEstimateMinutes', 0)}"
        )
        field(document, "Cost saved", f"${float(roi.get('costSavedUsd') or 0):,.2f}")
        field(document, "Efficiency", f"{roi.get('efficiencyPct', 0)} %")
        field(document, "Completion", f"{roi.get('completionPct', results.get('completionPct', 0))} %")
        field(document, "Success rate", f"{roi.get('successRatePct', 0)} %")
        field(document, "Tasks automated", roi.get("tasksAutomated"))
        if roi.get("impactMessage"):
            text_block(document, roi["impactMessage"], color=MUTED)


def systems_updated(document: Any, systems: Sequence[Mapping[str, Any]]) -> None:
    """One row per system the session updated."""
    if not systems:
        text_block(document, "No system was updated.", color=MUTED)
        return
    for system in systems:
        changes = "; ".join(clean(change) for change in system.get("keyChanges") or [])
        value = f"{system.get('updates', 0)} update(s), last {clean(system.get('lastUpdated'))}"
        field(document, clean(system.get("label") or system.get("system")), f"{value}. {changes}" if changes else value)


def _output(document: Any) -> bytes:
    return bytes(document.output())


def session_summary_pdf(session: Mapping[str, Any]) -> bytes:
    """The session summary PDF of a stored, finalized session: overview, results, ROI, systems, transcript."""
    results = session.get("results") or {}
    scenario = clean(session.get("scenarioTitle") or session.get("scenarioId"))
    document = new_document(
        f"Session summary — {scenario}",
        f"Tellgence session {clean(session.get('id'))}",
        created=_document_date(session.get("finalizedAt"), session.get("createdAt")),
        lang=session.get("requestedLocale"),
        arabic=needs_arabic_fonts(session),
    )
    title(document, "Session summary", scenario)
    section(document, "Overview")
    field(document, "Scenario", f"{scenario} ({clean(session.get('scenarioId'))})")
    field(document, "Company", session.get("companyName"))
    field(document, "Session", session.get("id"))
    field(document, "Started", session.get("createdAt"))
    field(document, "Finished", session.get("finalizedAt"))
    field(document, "Duration", duration_text(session.get("duration")))
    field(document, "Language", session.get("requestedLocale") or "—")
    section(document, "Results")
    results_fields(document, results)
    section(document, "Systems updated")
    systems_updated(document, results.get("systemsUpdated") or [])
    section(document, "Transcript")
    transcript(document, session.get("transcript") or [], empty_note=_empty_transcript_note(session))
    return _output(document)


def _empty_transcript_note(session: Mapping[str, Any]) -> str:
    retention = (session.get("consentRetention") or {}).get("transcriptRetention")
    if retention and retention != "full":
        return f"The transcript was not kept: consent retention is '{clean(retention)}'."
    return "The session has no transcript."


def evidence_pack_pdf(
    pack: Mapping[str, Any], section_digests: Mapping[str, str], session: Mapping[str, Any] | None = None
) -> bytes:
    """The evidence pack PDF: the summary of the signed bundle plus manifest, section digests, signature, key id
    and how to verify. `section_digests` are the sha256 of each bundle section (the evidence domain computes
    them); `session` (the stored document) adds the company name and locale when given."""
    session = session or {}
    bundle, manifest, signature = pack["bundle"], pack["manifest"], pack["signature"]
    results = bundle.get("results") or {}
    scenario = clean(bundle.get("scenarioTitle") or bundle.get("scenarioId"))
    key_id = clean(signature.get("publicKeyId"))
    document = new_document(
        f"Evidence pack — {scenario}",
        f"Tellgence evidence pack · session {clean(bundle.get('sessionId'))} · key {key_id}",
        created=_document_date(bundle.get("generatedAt")),
        lang=session.get("requestedLocale"),
        arabic=needs_arabic_fonts(bundle, session.get("companyName")),
    )
    title(document, "Evidence pack", scenario)
    section(document, "Overview")
    field(document, "Scenario", f"{scenario} ({clean(bundle.get('scenarioId'))})")
    field(document, "Company", session.get("companyName"))
    field(document, "Tenant", bundle.get("tenantId"))
    field(document, "Session", bundle.get("sessionId"))
    field(document, "Generated", bundle.get("generatedAt"))
    field(document, "Duration", duration_text(bundle.get("durationSeconds")))
    persona = bundle.get("persona") or {}
    if persona:
        field(
            document,
            "Agent persona",
            " · ".join(clean(persona.get(k)) for k in ("displayName", "id", "voice") if persona.get(k)),
        )

    section(document, "Integrity")
    field(document, "Signature", f"{clean(signature.get('algorithm'))}, key id {key_id}")
    field(document, "Bundle version", manifest.get("version"))
    field(document, "Bundle bytes", manifest.get("bundleByteLength"))
    field(document, "Bundle sha256", manifest.get("bundleSha256"))
    field(document, "Pack sha256", manifest.get("packSha256"))
    counts = manifest.get("counts") or {}
    field(document, "Counts", ", ".join(f"{name} {value}" for name, value in counts.items()))
    for name, digest in section_digests.items():
        field(document, f"{name} sha256", digest)
    document.ln(1)
    text_block(document, "Signature (base64)", size=8.5, color=MUTED)
    monospace_block(document, signature.get("signatureB64"))
    text_block(document, "Public key", size=8.5, color=MUTED)
    monospace_block(document, clean(signature.get("publicKeyPem")).strip())

    section(document, "How to verify")
    for step in VERIFY_STEPS:
        text_block(document, step, size=8.5)

    section(document, "Results")
    results_fields(document, results)
    section(document, "Systems updated")
    systems_updated(document, results.get("systemsUpdated") or [])
    section(document, "System updates (signed)")
    if not bundle.get("systemUpdates"):
        text_block(document, "No system updates were recorded.", color=MUTED)
    for update in bundle.get("systemUpdates") or []:
        fields_changed = ", ".join(clean(name) for name in update.get("fieldsChanged") or [])
        detail = f"{clean(update.get('description'))} ({clean(update.get('at'))})"
        field(
            document, clean(update.get("system")), f"{detail}; fields: {fields_changed}" if fields_changed else detail
        )

    section(document, "Tool calls")
    calls = bundle.get("toolCalls") or []
    if not calls:
        text_block(document, "No tool calls were journaled.", color=MUTED)
    for call in calls:
        latency = f", {call['latencyMs']} ms" if call.get("latencyMs") is not None else ""
        field(
            document, clean(call.get("tool")), f"{clean(call.get('status'))}{latency}, {clean(call.get('startedAt'))}"
        )

    section(document, "Approvals")
    approvals = bundle.get("approvals") or []
    if not approvals:
        text_block(document, "No approvals were requested.", color=MUTED)
    for approval in approvals:
        parts = [
            clean(approval.get("decision") or "pending"),
            clean(approval.get("reviewer")),
            clean(approval.get("note")),
        ]
        field(document, clean(approval.get("requestedAt")), " · ".join(part for part in parts if part))

    section(document, "Reasoning timeline")
    entries = bundle.get("reasoning") or []
    if not entries:
        text_block(document, "No reasoning entries.", color=MUTED)
    for entry in entries:
        field(document, clean(entry.get("at")), entry.get("label"))

    section(document, "Transcript")
    transcript(document, bundle.get("transcript") or [], empty_note=_empty_transcript_note(session))
    return _output(document)


def filename(kind: str, session_id: str) -> str:
    """The download name for Content-Disposition: tellgence-<kind>-<session id>.pdf, safe characters only."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "", session_id)[:64] or "session"
    return f"tellgence-{re.sub(r'[^a-z-]', '', kind)}-{safe}.pdf"
