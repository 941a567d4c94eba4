"""Session and evidence PDFs over HTTP: parseable, Spanish and Urdu text extractable, cached, purged with retention."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader

from shared.platform.store import blobs
from shared.platform.store.registry import EVIDENCE_PACKS_CONTAINER, PDFS_CONTAINER
from shared.sessions import aggregate
from tests.integration.evidence.conftest import finished_session
from tests.support.sessions import key_headers

SPANISH = [
    {"role": "assistant", "text": "Buenos días, ¿en qué le puedo ayudar, señora Núñez?", "timestamp": 1},
    {"role": "user", "text": "Necesito una cita el miércoles; mi niño tiene fiebre.", "timestamp": 4},
    {"role": "assistant", "text": "Con gusto. ¿Tiene su tarjeta del seguro médico?", "timestamp": 9},
]
URDU = [
    {"role": "assistant", "text": "السلام علیکم، میں آپ کی کیا مدد کر سکتی ہوں؟", "timestamp": 1},
    {"role": "user", "text": "مجھے ڈاکٹر سے ملاقات چاہیے۔", "timestamp": 3},
    {"role": "assistant", "text": "ٹھیک ہے، آپ کا نام کیا ہے؟", "timestamp": 7},
]
LANGUAGES = {"es-MX": SPANISH, "ur-PK": URDU}


def get(client, session: dict, path: str, **headers: str):
    response = client.get(f"/api/sessions/{session['sessionId']}/{path}", headers={**key_headers(session), **headers})
    assert response.status_code == 200, response.text
    return response


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def stored_pdfs(session: dict, tenant: str = "default-practice") -> list[str]:
    prefix = f"{tenant}/{session['sessionId']}/"
    return sorted(blob.name for blob in blobs.get_container(PDFS_CONTAINER).list_blobs(name_starts_with=prefix))


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
def test_both_pdfs_parse_with_the_transcript_extractable(client, locale):
    turns = LANGUAGES[locale]
    session = finished_session(
        client, "insurance-fnol", start={"requestedLocale": locale}, transcript=turns, companyName="Clínica Peña"
    )
    summary = get(client, session, "pdf")
    assert summary.headers["content-type"] == "application/pdf"
    assert summary.headers["content-disposition"] == (
        f'attachment; filename="tellgence-session-summary-{session["sessionId"]}.pdf"'
    )
    text = pdf_text(summary.content)
    for expected in ("Session summary", "Clínica Peña", session["sessionId"], *(turn["text"] for turn in turns)):
        assert expected in text, expected

    evidence = get(client, session, "evidence-packs.pdf")
    assert evidence.headers["content-type"] == "application/pdf"
    assert evidence.headers["content-disposition"] == (
        f'attachment; filename="tellgence-evidence-pack-{session["sessionId"]}.pdf"'
    )
    # The full pack PDF exists: the contract's fallback signal must not be sent.
    assert "x-voxops-evidence-pack-pdf" not in evidence.headers
    pack = get(client, session, "evidence-packs").json()
    text = pdf_text(evidence.content)
    for expected in (
        "Evidence pack",
        pack["manifest"]["bundleSha256"],
        pack["manifest"]["packSha256"],
        pack["signature"]["publicKeyId"],
        "How to verify",
        *(turn["text"] for turn in turns),
    ):
        assert expected in text, expected
    assert get(client, session, "evidence-pack.pdf").content == evidence.content


def test_pdfs_are_rendered_once_and_served_from_blob_storage_until_the_session_changes(client):
    session = finished_session(client, transcript=SPANISH)
    first = get(client, session, "pdf")
    evidence = get(client, session, "evidence-packs.pdf")
    names = stored_pdfs(session)
    assert len(names) == 2
    assert {name.rsplit("/", 1)[1].split("-")[0] for name in names} == {"session", "evidence"}
    assert get(client, session, "pdf").content == first.content
    assert get(client, session, "evidence-packs.pdf").content == evidence.content
    assert stored_pdfs(session) == names
    not_modified = client.get(
        f"/api/sessions/{session['sessionId']}/pdf",
        headers={**key_headers(session), "If-None-Match": first.headers["etag"]},
    )
    assert not_modified.status_code == 304

    aggregate.update(
        "default-practice", session["sessionId"], lambda doc: doc.update(companyName="Aseguradora del Sur")
    )
    changed = get(client, session, "pdf")
    assert changed.content != first.content and "Aseguradora del Sur" in pdf_text(changed.content)
    assert len(stored_pdfs(session)) == 3


def test_the_retention_purge_deletes_stored_packs_and_pdfs_with_the_transcript(client, devhost):
    session = finished_session(client, transcript=SPANISH)
    sid = session["sessionId"]
    get(client, session, "evidence-packs")
    get(client, session, "evidence-packs.pdf")
    get(client, session, "pdf")
    prefix = f"default-practice/{sid}/"
    packs = blobs.get_container(EVIDENCE_PACKS_CONTAINER)
    assert len(list(packs.list_blobs(name_starts_with=prefix))) == 1 and len(stored_pdfs(session)) == 2

    doc = aggregate.sessions.read(sid, "default-practice")
    expired = {**doc["consentRetention"], "artifactExpiresAt": "2000-01-01T00:00:00.000Z"}
    aggregate.sessions.update(sid, "default-practice", lambda current: current.update(consentRetention=expired))
    devhost.fire_timer("purge_expired_sessions")
    assert list(packs.list_blobs(name_starts_with=prefix)) == [] and stored_pdfs(session) == []

    # What is served afterwards is built from the redacted session.
    pack = get(client, session, "evidence-packs").json()
    assert pack["bundle"]["transcript"] == []
    assert SPANISH[0]["text"] not in pdf_text(get(client, session, "pdf").content)
    assert SPANISH[0]["text"] not in json.dumps(pack, ensure_ascii=False)


def test_the_daily_sweep_deletes_blobs_past_their_sessions_retention_even_when_the_session_is_gone(client, devhost):
    from shared.evidence import storage

    keep = finished_session(client, transcript=SPANISH)
    gone = finished_session(client, transcript=SPANISH)
    for session in (keep, gone):
        get(client, session, "evidence-packs")
        get(client, session, "pdf")
    packs = blobs.get_container(EVIDENCE_PACKS_CONTAINER)
    [pack_name] = [blob.name for blob in packs.list_blobs(name_starts_with=f"default-practice/{gone['sessionId']}/")]
    expiry = aggregate.sessions.read(gone["sessionId"], "default-practice")["consentRetention"]["artifactExpiresAt"]
    assert packs.get_blob_client(pack_name).get_blob_properties().metadata["expiresat"] == expiry

    # Cosmos' ttl removed the session before the purge saw it; its retention ran out long ago.
    aggregate.sessions.delete(gone["sessionId"], "default-practice")
    for container in (packs, blobs.get_container(PDFS_CONTAINER)):
        for blob in container.list_blobs(name_starts_with=f"default-practice/{gone['sessionId']}/"):
            container.get_blob_client(blob.name).set_blob_metadata({"expiresat": "2001-01-01T00:00:00.000Z"})
    devhost.fire_timer("purge_expired_evidence_files")
    assert list(packs.list_blobs(name_starts_with=f"default-practice/{gone['sessionId']}/")) == []
    assert stored_pdfs(gone) == []
    assert len(stored_pdfs(keep)) == 1
    assert len(list(packs.list_blobs(name_starts_with=f"default-practice/{keep['sessionId']}/"))) == 1
    assert storage.purge_expired() == 0
