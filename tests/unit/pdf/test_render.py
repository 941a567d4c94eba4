"""PDFs parsed back with pypdf: content, every catalog script (Spanish accents, Urdu right to left), pagination."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from shared.evidence import bundle as evidence
from shared.evidence import keys
from shared.evidence.bundle import section_sha256
from shared.pdf import render
from tests.unit.evidence.conftest import APPROVALS, TOOL_EXECUTIONS, stored_session

ROOT = Path(__file__).resolve().parents[3]
SPANISH = [
    {"role": "assistant", "text": "Buenos días, ¿en qué le puedo ayudar, señora Núñez?", "timestamp": 0},
    {"role": "user", "text": "Necesito una cita el miércoles; mi niño tiene fiebre.", "timestamp": 4},
    {"role": "assistant", "text": "Con gusto. ¿Tiene su tarjeta del seguro médico?", "timestamp": 9},
]
URDU = [
    {"role": "assistant", "text": "السلام علیکم، میں آپ کی کیا مدد کر سکتی ہوں؟", "timestamp": 0},
    {"role": "user", "text": "مجھے ڈاکٹر سے ملاقات چاہیے۔", "timestamp": 3},
    {"role": "assistant", "text": "ٹھیک ہے، آپ کا نام کیا ہے؟", "timestamp": 7},
]
FRENCH = [
    {"role": "assistant", "text": "Bonjour, votre facture échue a été réglée — merci « beaucoup ».", "timestamp": 0}
]


def pdf_text(data: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(data))
    return reader, [page.extract_text() for page in reader.pages]


def session(**overrides: Any) -> dict[str, Any]:
    return stored_session(**overrides)


def test_the_summary_shows_scenario_company_duration_results_roi_systems_and_transcript() -> None:
    doc = session(transcript=SPANISH, requestedLocale="es-MX", companyName="Clínica Peña")
    data = render.session_summary_pdf(doc)
    assert data.startswith(b"%PDF-")
    reader, pages = pdf_text(data)
    text = "\n".join(pages)
    results = doc["results"]
    roi = results["roiBreakdown"]
    for expected in (
        "Session summary",
        "Patient intake (healthcare-intake)",
        "Clínica Peña",
        doc["id"],
        "3 min 05 s",
        "es-MX",
        f"{results['leadScore']['score']} / 100 · {results['leadScore']['tier']}",
        f"ROI grade {roi['grade']}",
        f"${roi['costSavedUsd']:,.2f}",
        f"{roi['timeSavedMinutes']} min of {roi['manualTimeEstimateMinutes']}",
        "Systems updated",
        *(system["label"] for system in results["systemsUpdated"]),
        *(turn["text"] for turn in SPANISH),
    ):
        assert expected in text, expected
    assert reader.metadata.title == "Session summary — Patient intake"


def test_urdu_is_embedded_in_its_own_script_extractable_and_right_aligned() -> None:
    data = render.session_summary_pdf(session(transcript=URDU, requestedLocale="ur-PK"))
    reader, pages = pdf_text(data)
    text = "\n".join(pages)
    for turn in URDU:
        assert turn["text"] in text, turn["text"]
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
        if "/BaseFont" in font.get_object()
    }
    assert any(name.endswith("+NotoNaskhArabic") for name in fonts), fonts

    # Right to left: each Urdu line ends at the right margin, each Latin line starts at the left one.
    starts: dict[str, float] = {}

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            starts.setdefault(text.strip(), tm[4])

    reader.pages[0].extract_text(visitor_text=visit)
    urdu_start = next(x for text, x in starts.items() if "ڈاکٹر" in text)
    latin_start = starts["Transcript"]
    assert latin_start == pytest.approx(18 * 72 / 25.4, abs=3)
    assert urdu_start > 595.28 / 2, "a short Urdu line should sit against the right margin"


def test_urdu_letters_are_shaped_into_their_joining_forms() -> None:
    """Shaped Arabic script draws one letter with several glyphs (initial, medial, final forms); unshaped text
    would draw every occurrence of a letter with its one isolated glyph."""
    data = render.session_summary_pdf(session(transcript=URDU))
    reader = PdfReader(io.BytesIO(data))
    glyphs_per_character: dict[str, set[str]] = {}
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        if "NotoNaskhArabic" not in str(font["/BaseFont"]):
            continue
        cmap = font["/ToUnicode"].get_object().get_data().decode("ascii")
        for code, target in re.findall(r"<([0-9A-F]+)>\s*<([0-9A-F]+)>", cmap):
            glyphs_per_character.setdefault(bytes.fromhex(target).decode("utf-16-be"), set()).add(code)
    assert len(glyphs_per_character.get("م", set())) >= 2, glyphs_per_character


def test_french_and_spanish_accents_survive_exactly() -> None:
    data = render.session_summary_pdf(session(transcript=SPANISH + FRENCH))
    text = "\n".join(pdf_text(data)[1])
    for turn in SPANISH + FRENCH:
        assert turn["text"] in text


def test_arabic_fonts_are_only_loaded_for_documents_that_need_them() -> None:
    latin = PdfReader(io.BytesIO(render.session_summary_pdf(session(transcript=SPANISH))))
    fonts = {str(font["/BaseFont"]) for font in latin.pages[0]["/Resources"]["/Font"].values()}
    assert not any("Naskh" in name for name in fonts)


def test_a_300_turn_transcript_spans_several_pages_in_order() -> None:
    turns = [
        {
            "role": "user" if i % 2 else "assistant",
            "text": f"Turno {i:03d}: la paciente confirmó la cita número {i}.",
            "timestamp": i,
        }
        for i in range(300)
    ]
    _, pages = pdf_text(render.session_summary_pdf(session(transcript=turns)))
    assert len(pages) >= 6
    text = "\n".join(pages)
    positions = [text.index(f"Turno {i:03d}: la paciente confirmó la cita número {i}.") for i in range(300)]
    assert positions == sorted(positions)
    for number, page in enumerate(pages, start=1):
        assert f"page {number}" in page
    assert "Turno 299" in pages[-1] and "Turno 299" not in pages[-2]


def test_a_long_turn_flows_across_pages_without_losing_words() -> None:
    words = [f"palabra{i}" for i in range(1500)]
    _, pages = pdf_text(
        render.session_summary_pdf(session(transcript=[{"role": "user", "text": " ".join(words), "timestamp": 0}]))
    )
    assert len(pages) >= 2
    body = [line for page in pages for line in page.splitlines() if not line.startswith("Tellgence session")]
    extracted = " ".join(" ".join(body).split())
    assert " ".join(words) in extracted


def test_an_unbreakable_string_is_cut_to_the_width() -> None:
    token = "x" * 400
    _, pages = pdf_text(
        render.session_summary_pdf(session(transcript=[{"role": "user", "text": token, "timestamp": 0}]))
    )
    assert token in "".join("\n".join(pages).split())


def test_a_transcript_dropped_by_consent_says_so() -> None:
    doc = session(transcript=[], consentRetention={"transcriptRetention": "metadata_only"})
    text = "\n".join(pdf_text(render.session_summary_pdf(doc))[1])
    assert "The transcript was not kept: consent retention is 'metadata_only'." in text


def test_the_same_session_renders_the_same_bytes() -> None:
    doc = session(transcript=SPANISH + URDU)
    assert render.session_summary_pdf(doc) == render.session_summary_pdf(json.loads(json.dumps(doc)))
    changed = dict(doc, transcript=[*SPANISH, *URDU[:-1]])
    assert render.session_summary_pdf(changed) != render.session_summary_pdf(doc)


@pytest.fixture(scope="module")
def signed() -> tuple[dict[str, Any], dict[str, Any]]:
    doc = session(transcript=SPANISH + URDU, companyName="Clínica Norte")
    key = keys.signing_key_from_pem(keys.generate_private_key_pem())
    pack = evidence.build_pack(
        doc, key, tool_executions=TOOL_EXECUTIONS, approvals=APPROVALS, generated_at="2026-03-02T11:00:00.000Z"
    )
    return doc, pack


def test_the_evidence_pdf_carries_manifest_hashes_signature_key_id_and_how_to_verify(signed) -> None:
    doc, pack = signed
    _, pages = pdf_text(render.evidence_pack_pdf(pack, section_sha256(pack["bundle"]), doc))
    text = "\n".join(pages)
    joined = "".join(text.split())
    manifest, signature = pack["manifest"], pack["signature"]
    for expected in (
        "Evidence pack",
        "Clínica Norte",
        manifest["bundleSha256"],
        manifest["packSha256"],
        str(manifest["bundleByteLength"]),
        f"ed25519, key id {signature['publicKeyId']}",
        "How to verify",
        "python -m shared.evidence verify pack.json",
        "openssl pkeyutl -verify",
        *evidence.section_sha256(pack["bundle"]).values(),
        "lookup_patient",
        "front-desk@clinic-north",
        "Integration attempt failed (webhook)",
        *(turn["text"] for turn in SPANISH + URDU),
    ):
        assert expected in text, expected
    # Base64 and PEM are cut to the width: whole once the line breaks are removed.
    assert signature["signatureB64"] in joined
    assert "".join(signature["publicKeyPem"].split()) in joined


def test_the_evidence_pdf_is_deterministic_for_one_pack(signed) -> None:
    doc, pack = signed
    assert render.evidence_pack_pdf(pack, section_sha256(pack["bundle"]), doc) == render.evidence_pack_pdf(
        pack, section_sha256(pack["bundle"]), doc
    )


def test_the_evidence_pdf_renders_without_the_session_document(signed) -> None:
    _, pack = signed
    text = "\n".join(pdf_text(render.evidence_pack_pdf(pack, section_sha256(pack["bundle"])))[1])
    assert pack["manifest"]["bundleSha256"] in text


@pytest.mark.parametrize(
    ("text", "rtl"),
    [("مرحبا world", True), ("Hello مرحبا", False), ("123 میرا", True), ("", False), ("   ¿Qué?", False)],
)
def test_paragraph_direction_follows_the_first_strong_character(text: str, rtl: bool) -> None:
    assert render.is_rtl(text) is rtl


def test_control_characters_are_dropped_and_line_ends_normalised() -> None:
    assert render.clean("a\r\nb\rc\td\x07e\x00") == "a\nb\nc    de"
    assert render.clean(None) == "" and render.clean(12) == "12"


def test_download_names_are_safe() -> None:
    assert render.filename("evidence-pack", "0f8e9d7c") == "tellgence-evidence-pack-0f8e9d7c.pdf"
    assert render.filename("session", '../"x\r\n') == "tellgence-session-x.pdf"


def test_every_vendored_font_has_its_licence() -> None:
    fonts = sorted(render.FONT_DIR.glob("*.ttf"))
    assert {path.name for path in fonts} == {*render.MAIN_FONT_FILES.values(), *render.FALLBACK_FONT_FILES.values()}
    for path in fonts:
        licence = path.with_name(path.name.split("-")[0] + "-OFL.txt")
        assert "SIL OPEN FONT LICENSE Version 1.1" in licence.read_text(encoding="utf-8")


def test_importing_the_renderer_loads_neither_fpdf_nor_fonts() -> None:
    probe = (
        "import sys, shared.pdf.render\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fpdf', 'fontTools', 'uharfbuzz')))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
