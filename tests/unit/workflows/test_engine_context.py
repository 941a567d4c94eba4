"""The run context: payload over the session's extracted data over its contact; templates fill params."""

from __future__ import annotations

from shared.workflows.engine import Context


def test_the_payload_wins_over_the_session():
    session = {
        "extractedData": {"name": "From session", "insurance": "Delta"},
        "interactionSummary": {"contact": {"email": "dana@example.com", "displayName": "Dana"}},
    }
    context = Context({"name": "From payload"}, session)
    assert context.get("name") == "From payload"
    assert context.get("insurance") == "Delta" and context.get("email") == "dana@example.com"
    assert context.present("insurance") and not context.present("missing")
    assert not Context({"blank": "  "}, None).present("blank")


def test_templates_fill_whole_values_with_their_type_and_text_inline():
    context = Context({"age": 42, "name": "Rivera"}, None)
    params = {"years": "{{age}}", "note": "Call {{ name }} back ({{unknown}})", "nested": ["{{name}}", 1]}
    assert context.fill(params) == {"years": 42, "note": "Call Rivera back ()", "nested": ["Rivera", 1]}
    assert context.fill({"x": "{{unknown}}"}) == {"x": None}
