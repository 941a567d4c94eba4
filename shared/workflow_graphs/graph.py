"""Workflow graphs: validation against the vocabulary, ordering, hashing and a readable description.

Pure functions over `{nodes, edges}`; no store. `validate` reports every problem at once, each naming
the node or edge (by index and id) and what is wrong, never echoing a rejected value:

- shape: nodes are `{id, type, position, data}` and edges `{id, source, target, sourceHandle?, label?}`,
  nothing else; ids are well-formed (at most 64 characters) and unique; at most 50 nodes and 100 edges;
- vocabulary: every node type and its data (`shared.workflow_graphs.vocabulary`);
- edges reference existing nodes, never the node itself (except a retry loop), and each node has the
  outgoing edges its type allows;
- exactly one start: one node without incoming edges (retry edges not counted);
- every node is reachable from the start;
- no cycles, except `retry` edges, which must loop back to their node or a node before it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.platform.ids import is_valid_id
from shared.workflow_graphs import vocabulary

MAX_NODES = 50
MAX_EDGES = 100
MAX_ID = 64
MAX_POSITION = 1_000_000.0
NODE_KEYS = ("id", "type", "position", "data")
EDGE_KEYS = ("id", "source", "target", "sourceHandle", "label")
RETRY = "retry"


@dataclass
class Graph:
    """A validated graph (nodes and edges normalised) and its problems; usable only when `problems` is empty."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the graph has no problem."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """`{nodes, edges}` as stored and answered."""
        return {"nodes": self.nodes, "edges": self.edges}


def _name(index: int, item: Any, kind: str) -> str:
    item_id = item.get("id") if isinstance(item, dict) else None
    if isinstance(item_id, str) and is_valid_id(item_id) and len(item_id) <= MAX_ID:
        return f"{kind}[{index}] ({item_id!r})"
    return f"{kind}[{index}]"


def _position(value: Any, where: str, problems: list[str]) -> dict[str, float]:
    if value is None:
        return {"x": 0, "y": 0}
    if not isinstance(value, dict) or set(value) != {"x", "y"}:
        problems.append(f"{where}: position must be {{x, y}}")
        return {"x": 0, "y": 0}
    out = {}
    for axis in ("x", "y"):
        number = value[axis]
        if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
            problems.append(f"{where}: position.{axis} must be a number")
            return {"x": 0, "y": 0}
        if abs(number) > MAX_POSITION:
            problems.append(f"{where}: position.{axis} must be within ±{int(MAX_POSITION)}")
            return {"x": 0, "y": 0}
        out[axis] = number
    return out


def _id_ok(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_ID and is_valid_id(value)


def _entries(
    raw: Any, kind: str, limit: int, keys: tuple[str, ...], problems: list[str]
) -> Iterator[tuple[str, dict[str, Any], str]]:
    """The objects of a `nodes` or `edges` list with a well-formed, unique id, as (where, item, id).

    The list, object, field and id problems are noted as the caller walks the entries, so every
    problem keeps its place in the report.
    """
    if not isinstance(raw, list):
        problems.append(f"{kind}: must be a list")
        return
    if len(raw) > limit:
        problems.append(f"{kind}: at most {limit} {kind}")
        return
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = _name(index, item, kind)
        if not isinstance(item, dict):
            problems.append(f"{where}: must be an object")
            continue
        unknown = sorted(set(item) - set(keys))
        if unknown:
            problems.append(f"{where}: unknown fields {', '.join(repr(k[:40]) for k in unknown[:5])}")
        item_id = item.get("id")
        if not _id_ok(item_id):
            problems.append(f"{where}: id must be 1-{MAX_ID} letters, digits, '_', '-', '.' or ':'")
            continue
        if item_id in seen:
            problems.append(f"{where}: the id is used by another {kind[:-1]}")
            continue
        seen.add(item_id)
        yield where, item, item_id


def _nodes(raw: Any, problems: list[str]) -> list[dict[str, Any]]:
    nodes = []
    for where, item, node_id in _entries(raw, "nodes", MAX_NODES, NODE_KEYS, problems):
        node_type = item.get("type")
        if node_type not in vocabulary.NODE_TYPES:
            problems.append(f"{where}: type must be one of {', '.join(vocabulary.NODE_TYPES)} ({vocabulary.VERSION})")
            continue
        position = _position(item.get("position"), where, problems)
        data = vocabulary.node_data(node_type, item.get("data"), where, problems)
        nodes.append({"id": node_id, "type": node_type, "position": position, "data": data})
    return nodes


def _edges(raw: Any, known: dict[str, dict[str, Any]], problems: list[str]) -> list[dict[str, Any]]:
    edges = []
    for where, item, edge_id in _entries(raw, "edges", MAX_EDGES, EDGE_KEYS, problems):
        edge: dict[str, Any] = {"id": edge_id}
        broken = False
        for end in ("source", "target"):
            value = item.get(end)
            if not _id_ok(value) or value not in known:
                problems.append(f"{where}: {end} must name an existing node")
                broken = True
            else:
                edge[end] = value
        handle = item.get("sourceHandle")
        if handle is not None and handle not in vocabulary.HANDLES:
            problems.append(f"{where}: sourceHandle must be one of {', '.join(vocabulary.HANDLES)} or absent")
            broken = True
        label = item.get("label")
        if label is not None and (not isinstance(label, str) or len(label) > vocabulary.MAX_LABEL):
            problems.append(f"{where}: label must be a string of at most {vocabulary.MAX_LABEL} characters")
            broken = True
        if broken:
            continue
        if handle is not None:
            edge["sourceHandle"] = handle
        if label:
            edge["label"] = label
        if edge["source"] == edge["target"] and handle != RETRY:
            problems.append(f"{where}: an edge may not connect a node to itself (only a retry edge loops)")
            continue
        edges.append(edge)
    return edges


def _out_edges(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], problems: list[str]) -> None:
    by_source: dict[str, list[dict[str, Any]]] = {node["id"]: [] for node in nodes}
    for edge in edges:
        by_source[edge["source"]].append(edge)
    for node in nodes:
        allowed = vocabulary.allowed_handles(node)
        counts: dict[str | None, int] = {}
        for edge in by_source[node["id"]]:
            handle = edge.get("sourceHandle")
            if handle not in allowed:
                shown = "a default edge" if handle is None else f"a {handle!r} edge"
                article = "an" if node["type"][0] in "aeiou" else "a"
                problems.append(f"node {node['id']!r}: {article} {node['type']} node cannot have {shown}")
                continue
            counts[handle] = counts.get(handle, 0) + 1
        for handle, (least, most) in allowed.items():
            count = counts.get(handle, 0)
            shown = "default" if handle is None else repr(handle)
            if count < least:
                problems.append(f"node {node['id']!r}: needs {least} outgoing {shown} edge(s), has {count}")
            elif count > most:
                problems.append(f"node {node['id']!r}: may have at most {most} outgoing {shown} edge(s), has {count}")
        if counts.get(RETRY) and node["data"].get("maxRetries", 0) < 1:
            problems.append(f"node {node['id']!r}: a retry edge needs data.maxRetries of at least 1")


def forward_edges(edges: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The edges that move a run forward (every edge but retry loops)."""
    return [edge for edge in edges if edge.get("sourceHandle") != RETRY]


def starts(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> list[str]:
    """Ids of the nodes without an incoming forward edge."""
    targets = {edge["target"] for edge in forward_edges(edges)}
    return [node["id"] for node in nodes if node["id"] not in targets]


def _successors(edges: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for edge in edges:
        out.setdefault(edge["source"], []).append(edge["target"])
    return out


def _reachable(start: str, successors: dict[str, list[str]]) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for target in successors.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _cycle(nodes: list[dict[str, Any]], successors: dict[str, list[str]]) -> list[str] | None:
    """One cycle of forward edges as a path of node ids, or None (iterative DFS)."""
    state: dict[str, int] = {}
    for root in (node["id"] for node in nodes):
        if state.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            current, index = stack.pop()
            if index == 0:
                state[current] = 1
                path.append(current)
            following = successors.get(current, [])
            if index < len(following):
                stack.append((current, index + 1))
                target = following[index]
                if state.get(target) == 1:
                    return [*path[path.index(target) :], target]
                if not state.get(target):
                    stack.append((target, 0))
            else:
                state[current] = 2
                path.pop()
    return None


def _structure(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], problems: list[str]) -> None:
    if not nodes:
        problems.append("the workflow has no nodes")
        return
    if not any(node["type"] == "end" for node in nodes):
        problems.append("the workflow needs an end node")
    forward = forward_edges(edges)
    successors = _successors(forward)
    cycle = _cycle(nodes, successors)
    if cycle:
        problems.append("edges form a cycle: " + " -> ".join(cycle) + " (only retry edges may loop back)")
    entry = starts(nodes, edges)
    if not entry:
        problems.append("the workflow has no start: every node has an incoming edge")
    elif len(entry) > 1:
        problems.append(
            f"the workflow has {len(entry)} start nodes ({', '.join(entry[:10])}); exactly one node may have "
            "no incoming edge"
        )
    else:
        reached = _reachable(entry[0], successors)
        for node in nodes:
            if node["id"] not in reached:
                problems.append(f"node {node['id']!r} is unreachable from the start node {entry[0]!r}")
    for edge in edges:
        if edge.get("sourceHandle") == RETRY and edge["source"] not in _reachable(edge["target"], successors):
            problems.append(f"edge {edge['id']!r}: a retry edge must loop back to its node or a node before it")


def validate(nodes: Any, edges: Any) -> Graph:
    """The graph normalised, with every problem of shape, vocabulary and structure."""
    problems: list[str] = []
    clean_nodes = _nodes(nodes, problems)
    known = {node["id"]: node for node in clean_nodes}
    clean_edges = _edges(edges, known, problems)
    if not problems:
        _out_edges(clean_nodes, clean_edges, problems)
        _structure(clean_nodes, clean_edges, problems)
    return Graph(clean_nodes, clean_edges, problems)


def content_hash(graph: dict[str, Any]) -> str:
    """sha256 of `{nodes, edges}` as canonical JSON: equal graphs, equal hashes."""
    canonical = json.dumps(
        {"nodes": graph.get("nodes", []), "edges": graph.get("edges", [])},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def order(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes of a valid graph in run order (a topological order of the forward edges from the start)."""
    nodes = graph.get("nodes", [])
    forward = forward_edges(graph.get("edges", []))
    indegree = {node["id"]: 0 for node in nodes}
    for edge in forward:
        indegree[edge["target"]] += 1
    successors = _successors(forward)
    ready = [node["id"] for node in nodes if indegree[node["id"]] == 0]
    by_id = {node["id"]: node for node in nodes}
    ordered = []
    while ready:
        current = ready.pop(0)
        ordered.append(by_id[current])
        for target in successors.get(current, []):
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    return ordered


def steps(graph: dict[str, Any]) -> list[str]:
    """The ids of the nodes that act (intake, tool call, handoff, booking), in run order: a call's steps."""
    return [node["id"] for node in order(graph) if node["type"] in vocabulary.ACTION_TYPES]


def _describe_node(node: dict[str, Any]) -> str:
    data = node["data"]
    label = data.get("label") or node["id"]
    kind = node["type"]
    if kind == "intake":
        return f"{label}: capture {', '.join(data.get('fields', []))}."
    if kind == "tool_call":
        target = data.get("connector") or data.get("provider")
        return f"{label}: the system runs {data.get('action')} ({target})."
    if kind == "condition":
        value = "" if data.get("operator") in vocabulary.VALUELESS_OPERATORS else f" {data.get('value')}"
        return f"{label}: check whether {data.get('field')} {data.get('operator', '').replace('_', ' ')}{value}."
    if kind == "handoff":
        return f"{label}: hand the caller to a person ({data.get('reason')})."
    if kind == "booking":
        return f"{label}: offer the practice's booking link."
    outcome = data.get("outcome")
    return f"{label}: close the call" + (f" ({outcome.replace('_', ' ')})." if outcome else ".")


def describe(graph: dict[str, Any], *, workflow_id: str, version: int) -> str:
    """A short instruction text of a published workflow, in run order, for the persona runtime."""
    lines = [f"Follow the practice's published workflow {workflow_id} (version {version}):"]
    lines.extend(f"{index}. {_describe_node(node)}" for index, node in enumerate(order(graph), start=1))
    return "\n".join(lines)
