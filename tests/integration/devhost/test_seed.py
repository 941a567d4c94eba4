"""`make dev` seeds what a newcomer's first requests need: tool rules and the first public SLO snapshot."""

from __future__ import annotations

from devhost.seed import run_seeders


def test_after_seeding_the_public_slos_answer_at_once(client):
    assert run_seeders() >= 2
    response = client.get("/api/public/slos")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
