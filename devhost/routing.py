"""Azure Functions (ASP.NET Core) route templates: compile, match, and find routes that overlap."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import unquote

INT32_RANGE = (-(2**31), 2**31 - 1)
INT64_RANGE = (-(2**63), 2**63 - 1)
SUPPORTED_CONSTRAINTS = (
    "int",
    "long",
    "bool",
    "guid",
    "alpha",
    "minlength(n)",
    "maxlength(n)",
    "length(n)",
    "length(a,b)",
    "min(n)",
    "max(n)",
    "range(a,b)",
    "regex(expr)",
)

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONSTRAINT_NAME = re.compile(r"[A-Za-z]+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_ALPHA = re.compile(r"[a-z]*", re.IGNORECASE)
_HEX = "[0-9a-fA-F]"
_GUID_D = f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}"
# The forms .NET's Guid.TryParse accepts: N, D, B and P.
_GUID = re.compile(rf"{_HEX}{{32}}|{_GUID_D}|\{{{_GUID_D}\}}|\({_GUID_D}\)")


class RouteTemplateError(ValueError):
    """A route template the host would refuse (syntax, placement of optional/catch-all, constraints)."""


class RoutingError(LookupError):
    """A request that no route answers; `status` is the HTTP status to send."""

    status = 404


class RouteNotFound(RoutingError):
    """No route template matches the path."""

    status = 404


class MethodNotAllowed(RoutingError):
    """The path matches a route, but none that accepts the method."""

    status = 405

    def __init__(self, message: str, allowed: Sequence[str]) -> None:
        super().__init__(message)
        self.allowed = tuple(allowed)


@dataclass(frozen=True, slots=True)
class Constraint:
    """One inline route constraint such as `int` or `maxlength(8)`."""

    text: str
    accepts: Callable[[str], bool] = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Segment:
    """One path segment of a template: a literal, a parameter, an optional parameter or a catch-all."""

    literal: str | None = None
    name: str | None = None
    constraints: tuple[Constraint, ...] = ()
    optional: bool = False
    catch_all: bool = False

    @property
    def is_literal(self) -> bool:
        """True for a fixed text segment."""
        return self.literal is not None

    def accepts(self, value: str) -> bool:
        """Whether this segment matches one decoded path segment (or, for a catch-all, the rest of the path)."""
        if self.literal is not None:
            return value.casefold() == self.literal.casefold()
        if value == "" and not self.catch_all:
            return False
        return all(constraint.accepts(value) for constraint in self.constraints)


@dataclass(frozen=True, slots=True)
class RouteTemplate:
    """A compiled route template, route prefix included."""

    text: str
    segments: tuple[Segment, ...]

    @property
    def path(self) -> str:
        """The full template as a path, e.g. `/api/leads/{leadId}`."""
        return "/" + "/".join(_segment_text(segment) for segment in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        """The route params when the (percent-encoded) path matches, else None."""
        values = split_path(path)
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.catch_all:
                rest = "/".join(values[index:])
                if rest:
                    if not segment.accepts(rest):
                        return None
                    params[segment.name] = rest
                return params
            if index >= len(values):
                return params if segment.optional else None
            if not segment.accepts(values[index]):
                return None
            if segment.name is not None:
                params[segment.name] = values[index]
        return params if len(values) == len(self.segments) else None


@dataclass(frozen=True, slots=True)
class Route:
    """An HTTP-triggered function's route: its template and the methods it accepts (None: every method)."""

    function_name: str
    template: RouteTemplate
    methods: frozenset[str] | None
    function: Any = field(default=None, compare=False, repr=False)

    def allows(self, method: str) -> bool:
        """Whether the route accepts this HTTP method."""
        return self.methods is None or method.upper() in self.methods

    def describe(self) -> str:
        """`GET,POST /api/x/{id} (function_name)` for messages."""
        methods = ",".join(sorted(self.methods)) if self.methods is not None else "*"
        return f"{methods} {self.template.path} ({self.function_name})"


class Ambiguity(NamedTuple):
    """Two routes that can both match one concrete path for the shared methods."""

    first: Route
    second: Route
    methods: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{','.join(self.methods)}: {self.first.template.path} ({self.first.function_name}) "
            f"overlaps {self.second.template.path} ({self.second.function_name})"
        )


class AmbiguousRoutesError(ValueError):
    """Two routes of one method can match the same path; the host would not choose reliably."""

    def __init__(self, ambiguities: Sequence[Ambiguity]) -> None:
        self.ambiguities = tuple(ambiguities)
        listing = "\n  ".join(str(ambiguity) for ambiguity in self.ambiguities)
        super().__init__(f"{len(self.ambiguities)} ambiguous route pair(s):\n  {listing}")


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """The route that answers a request and its URL-decoded route params."""

    route: Route
    route_params: dict[str, str]

    @property
    def function(self) -> Any:
        """The indexed function (an `azure.functions` Function) behind the route."""
        return self.route.function

    @property
    def function_name(self) -> str:
        """The function's name."""
        return self.route.function_name


def split_path(path: str) -> list[str]:
    """A percent-encoded URL path as decoded segments; a trailing slash is ignored, `/` has none."""
    trimmed = path[1:] if path.startswith("/") else path
    if trimmed.endswith("/"):
        trimmed = trimmed[:-1]
    if trimmed == "":
        return []
    # Split before decoding so an encoded `%2F` stays inside its segment.
    return [unquote(part) for part in trimmed.split("/")]


def compile_route(template: str, route_prefix: str = "") -> RouteTemplate:
    """Compile a route template under a route prefix; raise RouteTemplateError for what the host refuses."""
    prefix_segments = _parse_template(route_prefix, allow_params=False)
    segments = prefix_segments + _parse_template(template, allow_params=True)
    names = [segment.name.casefold() for segment in segments if segment.name is not None]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise RouteTemplateError(f"route {template!r} repeats parameter(s) {', '.join(duplicates)}")
    for segment in segments[:-1]:
        if segment.optional or segment.catch_all:
            kind = "catch-all" if segment.catch_all else "optional"
            raise RouteTemplateError(f"route {template!r}: {kind} parameter {segment.name!r} must be the last segment")
    return RouteTemplate(text=template, segments=tuple(segments))


def routes_from_functions(functions: Iterable[Any], route_prefix: str = "") -> list[Route]:
    """The routes of the HTTP-triggered functions among `app.get_functions()`."""
    routes = []
    for function in functions:
        trigger = function.get_trigger()
        if getattr(trigger, "type", None) != "httpTrigger":
            continue
        name = function.get_function_name()
        # The host routes a function without a route at its name.
        template = trigger.route if trigger.route is not None else name
        methods = trigger.methods
        method_set = frozenset(_method_name(method) for method in methods) if methods else None
        routes.append(Route(name, compile_route(template, route_prefix), method_set, function))
    return routes


def find_ambiguities(
    routes: Iterable[Route | tuple[str | Iterable[str] | None, str]], route_prefix: str = ""
) -> list[Ambiguity]:
    """Every pair of routes sharing a method whose templates can match the same concrete path.

    Items are Routes or `(method, template)` pairs; the method may be a list of methods or None (every method).
    """
    found = []
    route_list = [_as_route(item, route_prefix) for item in routes]
    for index, first in enumerate(route_list):
        for second in route_list[index + 1 :]:
            shared = _shared_methods(first.methods, second.methods)
            if shared and _segments_overlap(first.template.segments, second.template.segments):
                found.append(Ambiguity(first, second, shared))
    return found


class RouteTable:
    """The HTTP routes of an app; refuses to exist when two routes of one method overlap."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        ambiguities = find_ambiguities(self.routes)
        if ambiguities:
            raise AmbiguousRoutesError(ambiguities)

    @classmethod
    def from_functions(cls, functions: Iterable[Any], route_prefix: str = "") -> RouteTable:
        """Build the table from `app.get_functions()` under the host's route prefix."""
        return cls(routes_from_functions(functions, route_prefix))

    def match(self, method: str, path: str) -> RouteMatch:
        """The route answering (method, percent-encoded path); RouteNotFound or MethodNotAllowed otherwise."""
        allowed: set[str] = set()
        path_matched = False
        for route in self.routes:
            params = route.template.match(path)
            if params is None:
                continue
            if route.allows(method):
                return RouteMatch(route, params)
            path_matched = True
            allowed.update(route.methods or ())
        if path_matched:
            raise MethodNotAllowed(f"{method.upper()} is not allowed on {path}", sorted(allowed))
        raise RouteNotFound(f"no route matches {path}")


def _as_route(item: Route | tuple[str | Iterable[str] | None, str], route_prefix: str) -> Route:
    if isinstance(item, Route):
        return item
    methods, template = item
    if methods is None:
        method_set = None
    elif isinstance(methods, str):
        method_set = frozenset({methods.upper()})
    else:
        method_set = frozenset(_method_name(method) for method in methods)
    return Route(template, compile_route(template, route_prefix), method_set)


def _method_name(method: Any) -> str:
    return str(getattr(method, "value", method)).upper()


def _shared_methods(first: frozenset[str] | None, second: frozenset[str] | None) -> tuple[str, ...]:
    if first is None and second is None:
        return ("*",)
    if first is None:
        return tuple(sorted(second))
    if second is None:
        return tuple(sorted(first))
    return tuple(sorted(first & second))


def _segments_overlap(first: Sequence[Segment], second: Sequence[Segment]) -> bool:
    if not first:
        return _can_match_nothing(second)
    if not second:
        return _can_match_nothing(first)
    head, other = first[0], second[0]
    if head.catch_all:
        return _catch_all_overlaps(head, second)
    if other.catch_all:
        return _catch_all_overlaps(other, first)
    # An optional parameter is last, so leaving it out means the template ends here.
    if head.optional and _can_match_nothing(second):
        return True
    if other.optional and _can_match_nothing(first):
        return True
    return _segment_overlaps(head, other) and _segments_overlap(first[1:], second[1:])


def _can_match_nothing(segments: Sequence[Segment]) -> bool:
    return not segments or (len(segments) == 1 and (segments[0].optional or segments[0].catch_all))


def _catch_all_overlaps(catch_all: Segment, others: Sequence[Segment]) -> bool:
    # Only an all-literal remainder is a concrete value its constraints can be checked against.
    if catch_all.constraints and others and all(segment.is_literal for segment in others):
        return catch_all.accepts("/".join(segment.literal for segment in others))
    return True


def _segment_overlaps(first: Segment, second: Segment) -> bool:
    if first.is_literal and second.is_literal:
        return first.literal.casefold() == second.literal.casefold()
    if first.is_literal:
        return second.accepts(first.literal)
    if second.is_literal:
        return first.accepts(second.literal)
    return True


def _segment_text(segment: Segment) -> str:
    if segment.literal is not None:
        return segment.literal
    star = "*" if segment.catch_all else ""
    constraints = "".join(f":{constraint.text}" for constraint in segment.constraints)
    question = "?" if segment.optional else ""
    return f"{{{star}{segment.name}{constraints}{question}}}"


def _parse_template(template: str, *, allow_params: bool) -> list[Segment]:
    text = template.strip()
    if text.startswith("~/"):
        text = text[2:]
    text = text.strip("/")
    if text == "":
        return []
    segments = []
    for raw in text.split("/"):
        if raw == "":
            raise RouteTemplateError(f"route {template!r} has an empty segment")
        unescaped = raw.replace("{{", "").replace("}}", "")
        if "{" not in unescaped and "}" not in unescaped:
            segments.append(Segment(literal=raw.replace("{{", "{").replace("}}", "}")))
            continue
        if not (raw.startswith("{") and raw.endswith("}")) or not allow_params:
            raise RouteTemplateError(
                f"route {template!r}: segment {raw!r} is not supported (a segment is a literal or one whole parameter)"
            )
        segments.append(_parse_parameter(raw[1:-1].replace("{{", "{").replace("}}", "}"), template))
    return segments


def _parse_parameter(inner: str, template: str) -> Segment:
    catch_all = inner.startswith("*")
    body = inner.lstrip("*") if catch_all else inner
    optional = body.endswith("?")
    if optional:
        body = body[:-1]
    if catch_all and optional:
        raise RouteTemplateError(f"route {template!r}: a catch-all parameter cannot be optional")
    name_match = _PARAM_NAME.match(body)
    if name_match is None:
        raise RouteTemplateError(f"route {template!r}: invalid parameter {{{inner}}}")
    name = name_match.group()
    rest = body[name_match.end() :]
    if rest.startswith("="):
        raise RouteTemplateError(f"route {template!r}: default values ({{{inner}}}) are not supported")
    if rest and not rest.startswith(":"):
        raise RouteTemplateError(f"route {template!r}: invalid parameter {{{inner}}}")
    constraints = tuple(_make_constraint(cname, arg, template) for cname, arg in _split_constraints(rest[1:], template))
    if rest and not constraints:
        raise RouteTemplateError(f"route {template!r}: empty constraint in {{{inner}}}")
    return Segment(name=name, constraints=constraints, optional=optional, catch_all=catch_all)


def _split_constraints(text: str, template: str) -> list[tuple[str, str | None]]:
    parts: list[tuple[str, str | None]] = []
    index = 0
    while index < len(text):
        name_match = _CONSTRAINT_NAME.match(text, index)
        if name_match is None:
            raise RouteTemplateError(f"route {template!r}: invalid constraint at {text[index:]!r}")
        end = name_match.end()
        argument = None
        if end < len(text) and text[end] == "(":
            # An argument (a regex may hold parentheses and colons) ends at the first `)` before `:` or the end.
            search_from = end + 1
            while True:
                close = text.find(")", search_from)
                if close == -1:
                    raise RouteTemplateError(f"route {template!r}: unclosed '(' in constraint {text[index:]!r}")
                if close + 1 == len(text) or text[close + 1] == ":":
                    break
                search_from = close + 1
            argument = text[end + 1 : close]
            end = close + 1
        parts.append((name_match.group(), argument))
        if end < len(text):
            if text[end] != ":" or end + 1 == len(text):
                raise RouteTemplateError(f"route {template!r}: invalid constraint list {text!r}")
            end += 1
        index = end
    return parts


def _make_constraint(name: str, argument: str | None, template: str) -> Constraint:
    key = name.lower()
    text = name if argument is None else f"{name}({argument})"
    no_argument = {
        "int": lambda value: _integer(value, INT32_RANGE) is not None,
        "long": lambda value: _integer(value, INT64_RANGE) is not None,
        "bool": lambda value: value.lower() in ("true", "false"),
        "guid": lambda value: _GUID.fullmatch(value) is not None,
        "alpha": lambda value: _ALPHA.fullmatch(value) is not None,
    }
    if key in no_argument:
        if argument is not None:
            raise RouteTemplateError(f"route {template!r}: constraint {name!r} takes no argument")
        return Constraint(text, no_argument[key])
    if key == "regex":
        if not argument:
            raise RouteTemplateError(f"route {template!r}: regex constraint needs a pattern")
        try:
            # ASP.NET matches route regexes case-insensitively and unanchored.
            pattern = re.compile(argument, re.IGNORECASE)
        except re.error as error:
            raise RouteTemplateError(f"route {template!r}: invalid regex {argument!r}: {error}") from error
        return Constraint(text, lambda value: pattern.search(value) is not None)
    numbers = _integer_arguments(name, argument, template)
    if key in ("minlength", "maxlength", "min", "max") and len(numbers) == 1:
        bound = numbers[0]
        checks = {
            "minlength": lambda value: len(value) >= bound,
            "maxlength": lambda value: len(value) <= bound,
            "min": lambda value: (number := _integer(value, INT64_RANGE)) is not None and number >= bound,
            "max": lambda value: (number := _integer(value, INT64_RANGE)) is not None and number <= bound,
        }
        return Constraint(text, checks[key])
    if key == "length" and len(numbers) in (1, 2):
        low, high = (numbers[0], numbers[0]) if len(numbers) == 1 else numbers
        return Constraint(text, lambda value: low <= len(value) <= high)
    if key == "range" and len(numbers) == 2:
        low, high = numbers
        return Constraint(
            text, lambda value: (number := _integer(value, INT64_RANGE)) is not None and low <= number <= high
        )
    if key in ("minlength", "maxlength", "min", "max", "length", "range"):
        raise RouteTemplateError(f"route {template!r}: wrong number of arguments in {text!r}")
    raise RouteTemplateError(
        f"route {template!r}: unknown constraint {name!r} (supported: {', '.join(SUPPORTED_CONSTRAINTS)})"
    )


def _integer_arguments(name: str, argument: str | None, template: str) -> list[int]:
    if argument is None:
        raise RouteTemplateError(f"route {template!r}: constraint {name!r} needs an argument")
    try:
        return [int(part.strip()) for part in argument.split(",")]
    except ValueError as error:
        raise RouteTemplateError(f"route {template!r}: constraint {name}({argument}) needs integers") from error


def _integer(value: str, bounds: tuple[int, int]) -> int | None:
    if _INTEGER.fullmatch(value) is None:
        return None
    number = int(value)
    return number if bounds[0] <= number <= bounds[1] else None
