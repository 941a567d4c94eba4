"""The workflow graph validator: vocabulary, references, one start, reachability, cycles and retry loops."""

from __future__ import annotations

import copy

import pytest

from shared.workflow_graphs import graph, vocabulary


def node(node_id: str, node_type: str, **data) -> dict:
    return {"id": node_id, "type": node_type, "position": {"x": 0, "y": 0}, "data": data}


def edge(edge_id: str, source: str, target: str, handle: str | None = None) -> dict:
    item = {"id": edge_id, "source": source, "target": target}
    if handle is not None:
        item["sourceHandle"] = handle
    return item


def intake_to_end() -> tuple[list, list]:
    nodes = [
        node("ask", "intake", label="Ask", fields=["name", "email"]),
        node("insured", "condition", field="insured", operator="equals", value="yes"),
        node("crm", "tool_call", provider="salesforce_mock", action="create_lead", params={"lastName": "{{name}}"}),
        node("human", "handoff", reason="Uninsured caller"),
        node("done", "end", outcome="qualified"),
    ]
    edges = [
        edge("e1", "ask", "insured"),
        edge("e2", "insured", "crm", "true"),
        edge("e3", "insured", "human", "false"),
        edge("e4", "crm", "done"),
    ]
    return nodes, edges


def problems(nodes, edges) -> list[str]:
    return graph.validate(nodes, edges).problems


def test_a_valid_graph_passes_and_is_normalised():
    nodes, edges = intake_to_end()
    checked = graph.validate(nodes, edges)
    assert checked.ok, checked.problems
    crm = next(n for n in checked.nodes if n["id"] == "crm")
    assert crm["data"] == {
        "provider": "salesforce_mock",
        "action": "create_lead",
        "params": {"lastName": "{{name}}"},
        "maxRetries": 0,
    }
    assert graph.steps(checked.as_dict()) == ["ask", "crm", "human"]
    assert [n["id"] for n in graph.order(checked.as_dict())] == ["ask", "insured", "crm", "human", "done"]


def test_the_content_hash_follows_the_graph_not_the_key_order():
    nodes, edges = intake_to_end()
    first = graph.validate(nodes, edges).as_dict()
    shuffled = graph.validate([dict(reversed(list(n.items()))) for n in nodes], edges).as_dict()
    assert graph.content_hash(first) == graph.content_hash(shuffled)
    changed = copy.deepcopy(nodes)
    changed[0]["data"]["label"] = "Ask again"
    assert graph.content_hash(graph.validate(changed, edges).as_dict()) != graph.content_hash(first)


def test_unknown_node_types_and_data_are_named():
    nodes, edges = intake_to_end()
    nodes[0] = {**nodes[0], "type": "sms_blast"}
    nodes[1]["data"]["colour"] = "red"
    found = problems(nodes, edges)
    assert any("nodes[0] ('ask'): type must be one of intake" in p and vocabulary.VERSION in p for p in found)
    assert any("nodes[1] ('insured'): data has fields a condition node does not take: 'colour'" in p for p in found)


def test_edges_must_reference_existing_nodes():
    nodes, edges = intake_to_end()
    edges.append(edge("e5", "done", "nowhere"))
    edges.append(edge("e6", "ghost", "done"))
    found = problems(nodes, edges)
    assert "edges[4] ('e5'): target must name an existing node" in found
    assert "edges[5] ('e6'): source must name an existing node" in found


def test_duplicate_ids_and_bad_ids_are_refused():
    nodes, edges = intake_to_end()
    nodes.append(node("ask", "end"))
    nodes.append(node("../x", "end"))
    found = problems(nodes, edges)
    assert "nodes[5] ('ask'): the id is used by another node" in found
    assert any(p.startswith("nodes[6]: id must be") for p in found)


def test_exactly_one_start():
    nodes, edges = intake_to_end()
    nodes.append(node("lonely", "end"))
    found = problems(nodes, edges)
    assert any("2 start nodes (ask, lonely)" in p for p in found)


def test_unreachable_nodes_are_named():
    nodes, edges = intake_to_end()
    # With one start and no cycle every node is reachable, so an unreachable node sits on a cycle of its own.
    nodes += [node("x", "intake", fields=["a"]), node("y", "intake", fields=["b"])]
    edges += [edge("x1", "x", "y"), edge("y1", "y", "x")]
    found = problems(nodes, edges)
    assert "node 'x' is unreachable from the start node 'ask'" in found
    assert "node 'y' is unreachable from the start node 'ask'" in found
    assert any(p.startswith("edges form a cycle: x -> y -> x") for p in found)


def test_a_default_edge_out_of_an_end_node_is_refused():
    nodes, edges = intake_to_end()
    edges.append(edge("after", "done", "human"))
    assert "node 'done': an end node cannot have a default edge" in problems(nodes, edges)


def test_cycles_are_refused_but_retry_loops_are_allowed():
    nodes, edges = intake_to_end()
    nodes[2]["data"]["maxRetries"] = 2
    edges.append(edge("retry", "crm", "ask", "retry"))
    assert problems(nodes, edges) == []
    cyclic_nodes = [
        node("a", "intake", fields=["x"]),
        node("b", "condition", field="x", operator="exists"),
        node("c", "intake", fields=["y"]),
        node("d", "end"),
        node("s", "intake", fields=["z"]),
    ]
    cyclic_edges = [
        edge("1", "s", "a"),
        edge("2", "a", "b"),
        edge("3", "b", "c", "true"),
        edge("4", "b", "d", "false"),
        edge("5", "c", "a"),
    ]
    found = problems(cyclic_nodes, cyclic_edges)
    assert any(p.startswith("edges form a cycle: a -> b -> c -> a") for p in found), found


def test_a_retry_edge_must_loop_back_and_needs_retries():
    nodes, edges = intake_to_end()
    edges.append(edge("retry", "crm", "done", "retry"))
    found = problems(nodes, edges)
    assert "node 'crm': a retry edge needs data.maxRetries of at least 1" in found
    assert "edge 'retry': a retry edge must loop back to its node or a node before it" in found


def test_a_retry_edge_may_loop_on_its_own_node():
    nodes, edges = intake_to_end()
    nodes[2]["data"]["maxRetries"] = 1
    edges.append(edge("again", "crm", "crm", "retry"))
    assert problems(nodes, edges) == []


def test_self_loops_without_retry_are_refused():
    nodes, edges = intake_to_end()
    edges.append(edge("loop", "human", "human"))
    assert "edges[4] ('loop'): an edge may not connect a node to itself (only a retry edge loops)" in problems(
        nodes, edges
    )


def test_outgoing_edges_follow_the_node_type():
    nodes, edges = intake_to_end()
    edges[2] = edge("e3", "insured", "human", "maybe")
    edges.append(edge("e9", "done", "human"))
    found = problems(nodes, edges)
    assert "edges[2] ('e3'): sourceHandle must be one of true, false, error, retry or absent" in found
    nodes, edges = intake_to_end()
    edges.pop(2)
    assert "node 'insured': needs 1 outgoing 'false' edge(s), has 0" in problems(nodes, edges)
    nodes, edges = intake_to_end()
    edges.append(edge("x", "ask", "human"))
    assert "node 'ask': may have at most 1 outgoing default edge(s), has 2" in problems(nodes, edges)


def test_node_data_bounds():
    nodes, edges = intake_to_end()
    nodes[0]["data"]["fields"] = []
    nodes[1]["data"] = {"field": "age", "operator": "greater_than", "value": "old"}
    nodes[2]["data"] = {"connector": "crm", "action": "x", "params": {"blob": "y" * 5000}}
    nodes[3]["data"] = {"reason": "r" * 301}
    nodes[4]["data"] = {"outcome": "party"}
    found = problems(nodes, edges)
    assert "nodes[0] ('ask'): data.fields must list 1-30 field names" in found
    assert "nodes[1] ('insured'): data.value must be a number for greater_than" in found
    assert any("nodes[2] ('crm'): data.connector must be one of ehr" in p for p in found)
    assert "nodes[2] ('crm'): data.params must be at most 4096 bytes as JSON" in found
    assert "nodes[3] ('human'): data.reason must be at most 300 characters" in found
    assert any("nodes[4] ('done'): data.outcome must be one of" in p for p in found)


def test_tool_calls_name_real_actions_of_their_kind():
    nodes, edges = intake_to_end()
    nodes[2]["data"] = {"connector": "ehr", "action": "create_patient"}
    assert problems(nodes, edges) == []
    nodes[2]["data"] = {"connector": "ehr", "action": "create_invoice"}
    assert "nodes[2] ('crm'): no ehr provider has the action 'create_invoice'" in problems(nodes, edges)
    nodes[2]["data"] = {"provider": "fhir_r4", "action": "create_patient"}
    assert "nodes[2] ('crm'): data.provider must be a demo-tier provider id" in problems(nodes, edges)
    nodes[2]["data"] = {"provider": "salesforce_mock", "connector": "ehr", "action": "create_patient"}
    assert any("exactly one of connector" in p for p in problems(nodes, edges))


def test_limits_and_shapes():
    assert graph.validate([], []).problems == ["the workflow has no nodes"]
    many = [node(f"n{i}", "end") for i in range(graph.MAX_NODES + 1)]
    assert graph.validate(many, []).problems == [f"nodes: at most {graph.MAX_NODES} nodes"]
    assert graph.validate("nodes", {}).problems == ["nodes: must be a list", "edges: must be a list"]
    nodes, edges = intake_to_end()
    nodes[0]["position"] = {"x": float("inf"), "y": 0}
    nodes[1]["selected"] = True
    found = problems(nodes, edges)
    assert "nodes[0] ('ask'): position.x must be a number" in found
    assert "nodes[1] ('insured'): unknown fields 'selected'" in found


def test_an_end_node_is_required():
    nodes = [node("a", "intake", fields=["x"]), node("h", "handoff", reason="always")]
    assert problems(nodes, [edge("1", "a", "h")]) == ["the workflow needs an end node"]


@pytest.mark.parametrize(
    ("operator", "actual", "expected", "verdict"),
    [
        ("equals", "Yes", "yes", True),
        ("not_equals", "no", "yes", True),
        ("exists", "", None, False),
        ("missing", None, None, True),
        ("contains", "Delta Dental PPO", "dental", True),
        ("greater_than", "42", 40, True),
        ("less_than", "abc", 40, False),
        ("equals", None, "yes", False),
    ],
)
def test_conditions_evaluate(operator, actual, expected, verdict):
    from shared.workflows.engine import evaluate

    assert evaluate(operator, actual, expected) is verdict


def test_the_description_lists_the_steps_in_order():
    nodes, edges = intake_to_end()
    checked = graph.validate(nodes, edges).as_dict()
    text = graph.describe(checked, workflow_id="fsp_1:v2", version=2)
    assert text.splitlines()[0] == "Follow the practice's published workflow fsp_1:v2 (version 2):"
    assert "1. Ask: capture name, email." in text
    assert "hand the caller to a person (Uninsured caller)" in text
