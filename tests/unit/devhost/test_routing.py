"""Route templates as the Functions host (ASP.NET Core routing) reads them, and overlap detection."""

from __future__ import annotations

import azure.functions as func
import pytest

from devhost.routing import (
    AmbiguousRoutesError,
    MethodNotAllowed,
    Route,
    RouteNotFound,
    RouteTable,
    RouteTemplateError,
    compile_route,
    find_ambiguities,
    routes_from_functions,
    split_path,
)

GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


def matches(template: str, path: str, prefix: str = "") -> dict[str, str] | None:
    return compile_route(template, prefix).match(path)


def route(template: str, *methods: str, name: str | None = None) -> Route:
    return Route(name or template, compile_route(template), frozenset(methods) if methods else None)


class TestMatching:
    def test_literal_segments_match_case_insensitively(self):
        assert matches("api/leads", "/API/Leads") == {}
        assert matches("api/leads", "/api/leads/") == {}
        assert matches("api/leads", "/api/lead") is None
        assert matches("api/leads", "/api/leads/x") is None

    def test_parameters_are_url_decoded_strings(self):
        assert matches("api/leads/{leadId}", "/api/leads/a%20b") == {"leadId": "a b"}
        assert matches("api/leads/{leadId}/notes", "/api/leads/%C3%A9t%C3%A9/notes") == {"leadId": "été"}
        # An encoded slash stays inside its segment.
        assert matches("api/leads/{leadId}", "/api/leads/a%2Fb") == {"leadId": "a/b"}

    def test_a_parameter_never_matches_an_empty_segment(self):
        assert matches("a/{x}/b", "/a//b") is None

    def test_empty_template_matches_only_the_root(self):
        assert matches("", "/") == {}
        assert matches("", "") == {}
        assert matches("", "/healthz") is None

    def test_route_prefix_is_part_of_the_template(self):
        assert matches("leads/{id}", "/api/leads/7", prefix="api") == {"id": "7"}
        assert matches("leads/{id}", "/leads/7", prefix="api") is None
        assert matches("", "/api", prefix="api") == {}
        assert compile_route("leads/{id}", "/api/").path == "/api/leads/{id}"

    def test_optional_last_parameter(self):
        assert matches("api/scenarios/{slug?}", "/api/scenarios") == {}
        assert matches("api/scenarios/{slug?}", "/api/scenarios/intro") == {"slug": "intro"}
        assert matches("api/scenarios/{slug:alpha?}", "/api/scenarios/42") is None
        assert matches("api/scenarios/{slug?}", "/api/scenarios/a/b") is None

    def test_catch_all_takes_the_rest_of_the_path(self):
        assert matches("files/{*rest}", "/files/a/b%20c/d") == {"rest": "a/b c/d"}
        assert matches("files/{**rest}", "/files/x") == {"rest": "x"}
        assert matches("files/{*rest}", "/files") == {}
        assert matches("files/{*rest:minlength(3)}", "/files/ab") is None

    def test_split_path_ignores_one_trailing_slash(self):
        assert split_path("/") == []
        assert split_path("/a/b/") == ["a", "b"]
        assert split_path("a/%41") == ["a", "A"]


class TestConstraints:
    @pytest.mark.parametrize(
        ("constraint", "accepted", "rejected"),
        [
            ("int", ["0", "-12", "+7", "2147483647"], ["2147483648", "1.5", "x", "١"]),
            ("long", ["9223372036854775807", "-5"], ["9223372036854775808", "0x10"]),
            ("bool", ["true", "FALSE"], ["yes", "1"]),
            ("guid", [GUID, GUID.replace("-", ""), "{" + GUID + "}", "(" + GUID.upper() + ")"], ["abc", GUID[:-1]]),
            ("alpha", ["abc", "ABCdef"], ["abc1", "a-b", "é"]),
            ("minlength(3)", ["abc", "abcd"], ["ab"]),
            ("maxlength(3)", ["a", "abc"], ["abcd"]),
            ("length(3)", ["abc"], ["ab", "abcd"]),
            ("length(2,3)", ["ab", "abc"], ["a", "abcd"]),
            ("min(10)", ["10", "11"], ["9", "x"]),
            ("max(10)", ["10", "-3"], ["11", "x"]),
            ("range(1,5)", ["1", "5"], ["0", "6", "x"]),
            ("regex(^\\d{{3}}$)", ["123"], ["1234", "12a"]),
            ("regex(^[a-z]+$)", ["abc", "ABC"], ["ab1"]),
            ("regex(b)", ["abc"], ["xyz"]),
        ],
    )
    def test_constraint(self, constraint: str, accepted: list[str], rejected: list[str]):
        template = compile_route(f"x/{{value:{constraint}}}")
        for value in accepted:
            assert template.match(f"/x/{value}") == {"value": value}, value
        for value in rejected:
            assert template.match(f"/x/{value}") is None, value

    def test_constraints_chain(self):
        template = compile_route("x/{id:alpha:maxlength(8)}")
        assert template.match("/x/abcdefgh") == {"id": "abcdefgh"}
        assert template.match("/x/abcdefghi") is None
        assert template.match("/x/abc1") is None

    def test_regex_with_parentheses_and_colons(self):
        template = compile_route("api/cp/sessions/{id:regex(^(?!exceptions$).+$)}")
        assert template.match("/api/cp/sessions/abc") == {"id": "abc"}
        assert template.match("/api/cp/sessions/exceptions") is None
        assert template.match("/api/cp/sessions/EXCEPTIONS") is None
        chained = compile_route("x/{id:regex(^(a|b)c:d$):maxlength(4)}")
        assert chained.match("/x/ac:d") == {"id": "ac:d"}
        assert chained.match("/x/zc:d") is None

    def test_a_regex_argument_ends_at_the_first_paren_before_a_colon_as_in_aspnet(self):
        # ASP.NET reads `(?:a|b)` followed by `:` as the end of the argument, so the host refuses this too.
        with pytest.raises(RouteTemplateError):
            compile_route("x/{id:regex((?:a|b):c)}")

    @pytest.mark.parametrize(
        "template",
        [
            "x/{id?}/y",
            "x/{*rest}/y",
            "x/{*rest?}",
            "x/{id:nope}",
            "x/{id:regex([)}",
            "x/{id:minlength}",
            "x/{id:int(3)}",
            "x/{id:range(1)}",
            "x/{id:maxlength(a)}",
            "x/{id}.pdf",
            "x/{a}/{A}",
            "x/{id=5}",
            "x//y",
            "x/{id:}",
            "x/{1id}",
        ],
    )
    def test_templates_the_host_would_refuse(self, template: str):
        with pytest.raises(RouteTemplateError):
            compile_route(template)


class TestRouteTable:
    def test_matches_method_and_path(self):
        table = RouteTable([route("api/leads", "GET", name="list"), route("api/leads", "POST", name="create")])
        assert table.match("get", "/api/leads").function_name == "list"
        assert table.match("POST", "/api/leads").function_name == "create"

    def test_unknown_path_is_404_and_wrong_method_405_with_the_allowed_methods(self):
        table = RouteTable([route("api/leads/{id}", "GET", "DELETE"), route("api/leads/{id:int}", "PUT")])
        with pytest.raises(RouteNotFound) as missing:
            table.match("GET", "/api/nothing")
        assert missing.value.status == 404
        with pytest.raises(MethodNotAllowed) as wrong:
            table.match("POST", "/api/leads/7")
        assert wrong.value.status == 405
        assert wrong.value.allowed == ("DELETE", "GET", "PUT")

    def test_builds_from_function_app_triggers(self):
        app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

        @app.route(route="api/items/{id:int}", methods=[func.HttpMethod.GET, "patch"])
        def get_item(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("")

        @app.route()
        def named_route(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse("")

        @app.queue_trigger(arg_name="msg", queue_name="emails", connection="AzureWebJobsStorage")
        def on_email(msg: func.QueueMessage) -> None:
            return None

        routes = routes_from_functions(app.get_functions(), route_prefix="api")
        assert [(r.function_name, r.template.path, r.methods) for r in routes] == [
            ("get_item", "/api/api/items/{id:int}", frozenset({"GET", "PATCH"})),
            ("named_route", "/api/named_route", None),
        ]
        table = RouteTable(routes)
        found = table.match("PATCH", "/api/api/items/12")
        assert found.route_params == {"id": "12"}
        assert found.function.get_function_name() == "get_item"
        assert table.match("DELETE", "/api/named_route").function_name == "named_route"


class TestAmbiguity:
    def test_literal_and_unconstrained_parameter_overlap(self):
        found = find_ambiguities(
            [route("api/cp/sessions/exceptions", "GET"), route("api/cp/sessions/{id}", "GET", "PATCH")]
        )
        assert len(found) == 1
        assert found[0].methods == ("GET",)
        assert "api/cp/sessions/exceptions" in str(found[0])

    def test_a_constraint_rejecting_the_literal_makes_them_disjoint(self):
        assert (
            find_ambiguities(
                [
                    route("api/cp/sessions/exceptions", "GET"),
                    route("api/cp/sessions/{id:regex(^(?!exceptions$).+$)}", "GET"),
                ]
            )
            == []
        )
        assert find_ambiguities([route("api/cp/leads/export.csv", "GET"), route("api/cp/leads/{id:guid}", "GET")]) == []
        assert len(find_ambiguities([route("api/cp/leads/export.csv", "GET"), route("api/cp/leads/{id}", "GET")])) == 1

    def test_accepts_method_and_template_pairs(self):
        pairs = [("GET", "api/cp/sessions/exceptions"), ("GET", "api/cp/sessions/{id}"), ("POST", "api/x")]
        found = find_ambiguities(pairs)
        assert [(a.first.template.text, a.second.template.text) for a in found] == [
            ("api/cp/sessions/exceptions", "api/cp/sessions/{id}")
        ]
        assert find_ambiguities([(["GET", "POST"], "a/{x}"), (None, "a/b")])[0].methods == ("GET", "POST")

    @pytest.mark.parametrize(
        ("first", "second", "ambiguous"),
        [
            ("a/b", "a/c", False),
            ("a/b", "A/B", True),
            ("a/{x}", "a/{y}", True),
            ("a/{x:int}", "a/{y:alpha}", True),
            ("a/{x:int}", "a/abc", False),
            ("a/{x}", "a/{y}/c", False),
            ("a/{x?}", "a", True),
            ("a/{x?}", "a/b/c", False),
            ("a/{*rest}", "a/b/c/d", True),
            ("a/{*rest}", "a", True),
            ("a/{*rest}", "b/c", False),
            ("a/{*rest:regex(^x)}", "a/y/z", False),
            ("a/{*rest:regex(^x)}", "a/x/z", True),
            ("", "a", False),
            ("", "{x?}", True),
            ("{x}/b", "a/{y}", True),
        ],
    )
    def test_segment_rules(self, first: str, second: str, ambiguous: bool):
        assert bool(find_ambiguities([route(first, "GET"), route(second, "GET")])) is ambiguous

    def test_routes_of_different_methods_never_conflict(self):
        assert find_ambiguities([route("a/b", "GET"), route("a/{x}", "POST")]) == []
        assert len(find_ambiguities([route("a/b"), route("a/{x}", "POST")])) == 1

    def test_route_table_refuses_ambiguous_routes_and_lists_the_pairs(self):
        with pytest.raises(AmbiguousRoutesError) as error:
            RouteTable([route("x/exceptions", "GET", name="one"), route("x/{id}", "GET", name="two")])
        assert len(error.value.ambiguities) == 1
        assert "(one)" in str(error.value) and "(two)" in str(error.value)
