"""A private or direct channel does not exist for anyone outside it (issue 13;
docs/api/channels-and-messages.md, "Private channels and direct messages": "Visibility").

Every endpoint that names a channel, a message or a reaction answers a non-member exactly as
it answers for an id that never existed: 404, the same problem document, never a 403 that
would tell them the thing is there. The endpoints are read from the route table
(src/parlour/http/routes.py), and their request bodies made from the OpenAPI document's
schemas, so an endpoint added later is probed without anyone remembering to add it here;
one whose parameters this file cannot fill fails, asking to be taught. The callers: a
member of the server outside the channel, an admin outside it, a member who was removed
(after sending, reacting and reading), and a member since deactivated (whose sessions are
dead: 401). A member's same request is then checked not to be a 404, so each probe is one
that would have worked from inside; and the probes are checked to have changed nothing.
Boot and history leave hidden channels out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from private_crew import Crew, Person, channel_ids, make_crew, message_ids

from conftest import Site
from parlour.http.routes import API, openapi_path
from parlour_client import (
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    ParlourClient,
    assert_problem,
    expect,
    fresh_name,
)

EMOJI = "👍"
PATH_PARAM = re.compile(r"\{(\w+)(:\w+)?\}")
# What names a channel or a message (and so its reactions): in a path, a query or a body.
CHANNEL_NAMES = {"channel_id", "channel"}
MESSAGE_NAMES = {"message_id", "message"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return [name for name, _ in PATH_PARAM.findall(self.path)]

    @property
    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.operation.get("parameters", []) if p.get("in") == "query"]

    @property
    def names_a_channel_or_message(self) -> bool:
        named = set(self.path_params) | {p["name"] for p in self.query_params}
        return bool(named & (CHANNEL_NAMES | MESSAGE_NAMES))


def routes_naming_channels() -> list[Route]:
    """Every API route with a channel or message id in its path or query (GET ones also as
    HEAD, which HTTP serves wherever GET is)."""
    routes = [Route(method, path, op) for path, method, _, op in API]
    found = [r for r in routes if r.names_a_channel_or_message]
    found += [Route("HEAD", r.path, r.operation) for r in found if r.method == "GET"]
    return found


ROUTES = routes_naming_channels()


def test_the_route_table_names_the_channels_and_messages_it_should() -> None:
    """The detection works: the endpoints issue 13 lists are all found."""
    found = {str(r) for r in ROUTES}
    assert {
        "POST /api/channels/{channel_id}",
        "DELETE /api/channels/{channel_id}",
        "POST /api/channels/{channel_id}/members",
        "DELETE /api/channels/{channel_id}/members/{user_id}",
        "GET /api/channels/{channel_id}/messages",
        "HEAD /api/channels/{channel_id}/messages",
        "POST /api/channels/{channel_id}/read",
        "POST /api/channels/{channel_id}/notify",
        "POST /api/messages/{message_id}",
        "DELETE /api/messages/{message_id}",
        "POST /api/messages/{message_id}/reactions",
        "DELETE /api/messages/{message_id}/reactions/{emoji:path}",
    } <= found


# --- what a hidden channel looks like ----------------------------------------------------------


@dataclass(frozen=True)
class Hidden:
    """A channel Bob made, with a message of his that Bob and Carol reacted to."""

    channel: str
    message: str
    kind: str


@dataclass(frozen=True)
class Scene:
    crew: Crew
    hidden: Hidden
    outsiders: dict[str, Person]
    frank: Person
    frank_token: str
    frank_channel: Hidden


def hide(crew: Crew, kind: str) -> tuple[Hidden, dict[str, Person]]:
    """A private channel of Bob, Alice (an admin) and Carol, whom Alice removes after Carol
    sent, reacted and read; or a direct channel of Bob and Carol. Returns it and who is
    outside it."""
    bob = crew.bob.client
    if kind == "private":
        channel = bob.create_private_channel(fresh_name("hidden"), [crew.alice.id, crew.carol.id])
    else:
        channel = bob.open_direct([crew.carol.id])
    message = bob.send_message(channel["id"], "a secret")["id"]
    for person in (crew.bob, crew.carol):
        expect(person.client.post(f"/api/messages/{message}/reactions", json={"emoji": EMOJI}), 202)
    said = {"body": "Carol's secret"}
    carol_said = expect(crew.carol.client.post(f"/api/channels/{channel['id']}", json=said), 202)
    expect(crew.carol.client.post(f"/api/channels/{channel['id']}/read",
                                  json={"seq": carol_said["seq"]}), 202)  # fmt: skip
    outsiders = {"a member outside": crew.dave, "an admin outside": crew.erin}
    if kind == "private":
        crew.alice.client.remove_member(channel["id"], crew.carol.id)
        outsiders["a removed member"] = crew.carol
    return Hidden(channel["id"], message, kind), outsiders


@pytest.fixture(scope="module")
def crew(shared_site: Site) -> Crew:
    return make_crew(shared_site)


@pytest.fixture(scope="module")
def openapi(crew: Crew) -> dict[str, Any]:
    document: dict[str, Any] = expect(crew.alice.client.get("/api/openapi.json"), 200)
    return document


@pytest.fixture(scope="module")
def deactivated(crew: Crew) -> tuple[Person, str, Hidden]:
    """Frank, a member of a private channel of Bob's, then deactivated: his old token."""
    frank = crew.newcomer()
    channel = crew.bob.client.create_private_channel(fresh_name("hidden"), [frank.id])
    message = crew.bob.client.send_message(channel["id"], "for Frank")["id"]
    token = frank.client.token
    crew.alice.client.change_user(frank.id, active=False)
    return frank, token, Hidden(channel["id"], message, "private")


# --- making a request from the route table -----------------------------------------------------


def schema_of(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = openapi["components"]["schemas"][name]
    return schema


def value_for(
    openapi: dict[str, Any], name: str, schema: dict[str, Any], ids: dict[str, str]
) -> Any:
    """A value a member's request would carry for this field: the hidden ids where the field
    names a channel, a message or a user; else one that passes validation."""
    if name in ids:
        return ids[name]
    schema = schema_of(openapi, schema)
    known: dict[str, Any] = {"body": "a probe", "emoji": EMOJI, "seq": 1, "name": fresh_name()}
    if name in known:
        return known[name]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        return {
            field: value_for(openapi, field, sub, ids)
            for field, sub in schema.get("properties", {}).items()
            if field in schema.get("required", [])
        }
    simple = {"string": "x", "integer": 1, "number": 1, "boolean": True, "array": []}
    if kind in simple:
        return simple[kind]
    pytest.fail(f"teach test_visibility.py a value for the field {name!r}: {schema}")


def request_for(
    openapi: dict[str, Any], route: Route, channel: str, message: str, caller: Person
) -> tuple[str, str, dict[str, Any], Any]:
    """(method, path, query, JSON body) of `route` naming this channel and message, made by
    `caller` (whose own id fills any user)."""
    ids = {"channel_id": channel, "channel": channel, "message_id": message,
           "message": message, "user_id": caller.id, "user": caller.id}  # fmt: skip
    fillers = {**ids, "emoji": quote(EMOJI, safe="")}
    path = route.path
    for param in route.path_params:
        if param not in fillers:
            pytest.fail(f"teach test_visibility.py to fill {{{param}}} of {route}")
        path = re.sub(r"\{" + param + r"(?::\w+)?\}", fillers[param], path)
    query = {
        p["name"]: value_for(openapi, p["name"], p.get("schema", {}), ids)
        for p in route.query_params
        if p.get("required") or p["name"] in ids
    }
    body = None
    method = "get" if route.method == "HEAD" else route.method.lower()
    operation = openapi["paths"][openapi_path(route.path)][method]
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        body = value_for(openapi, "", schema, ids)
    return route.method, path, query, body


def send(client: httpx.Client, request: tuple[str, str, dict[str, Any], Any]) -> httpx.Response:
    method, path, query, body = request
    return client.request(method, path, params=query, json=body)


def what_bob_sees(crew: Crew, hidden: Hidden) -> tuple[Any, ...]:
    """The channel, its messages (with their reactions) and Bob's read state of it."""
    snapshot = crew.bob.client.snapshot()
    channel = [c for c in snapshot["channels"] if c["id"] == hidden.channel]
    return channel, crew.bob.client.all_messages(hidden.channel), snapshot["reads"][hidden.channel]


# --- the probes --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["private", "direct"])
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_every_endpoint_naming_a_hidden_channel_answers_as_if_it_never_existed(
    crew: Crew,
    openapi: dict[str, Any],
    deactivated: tuple[Person, str, Hidden],
    route: Route,
    kind: str,
) -> None:
    hidden, outsiders = hide(crew, kind)
    before = what_bob_sees(crew, hidden)
    for who, person in outsiders.items():
        probe = request_for(openapi, route, hidden.channel, hidden.message, person)
        answer = send(person.client, probe)
        unknown = send(
            person.client, request_for(openapi, route, UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, person)
        )
        assert answer.status_code == 404, f"{route} by {who}: {answer.status_code} {answer.text}"
        assert unknown.status_code == 404, f"{route} for unknown ids: {unknown.text}"
        if route.method != "HEAD":
            assert_problem(answer, 404)
            # Word for word what an id that never existed gets: nothing to tell them apart.
            assert answer.json() == unknown.json(), f"{route} by {who}"
    assert what_bob_sees(crew, hidden) == before, f"a refused {route} changed something"

    frank, token, his = deactivated
    with ParlourClient(crew.server.url, token=token) as old_session:
        probe = request_for(openapi, route, his.channel, his.message, frank)
        assert send(old_session, probe).status_code == 401, f"{route} by a deactivated member"

    # From inside, the same request is no 404: the probe was one that could have worked.
    answer = send(
        crew.bob.client, request_for(openapi, route, hidden.channel, hidden.message, crew.bob)
    )
    assert answer.status_code != 404, f"{route} by a member: {answer.text}"
    assert answer.status_code < 500


def test_boot_leaves_hidden_channels_and_their_messages_out(crew: Crew) -> None:
    for hidden, outsiders in (hide(crew, "private"), hide(crew, "direct")):
        for who, person in outsiders.items():
            snapshot = person.client.snapshot(200)
            assert hidden.channel not in channel_ids(snapshot), who
            assert hidden.channel not in snapshot["older"], who
            assert hidden.channel not in snapshot.get("reads", {}), who
            assert hidden.message not in message_ids(snapshot), who
            assert all(m["channel"] != hidden.channel for m in snapshot["messages"]), who
        inside = crew.bob.client.snapshot(200)
        assert hidden.channel in channel_ids(inside)
        assert hidden.channel in inside["older"]
        assert hidden.channel in inside["reads"]
        assert hidden.message in message_ids(inside)


def test_an_admin_outside_sees_public_channels_and_their_own_only(crew: Crew) -> None:
    public = crew.bob.client.create_channel(fresh_name())
    hidden, _ = hide(crew, "private")
    own = crew.erin.client.create_private_channel(fresh_name(), [crew.dave.id])
    seen = channel_ids(crew.erin.client.snapshot())
    assert {public["id"], own["id"]} <= seen
    assert hidden.channel not in seen


def test_a_removed_member_keeps_nothing_of_the_channel(crew: Crew) -> None:
    hidden, _ = hide(crew, "private")
    carol = crew.carol.client
    snapshot = carol.snapshot(200)
    assert hidden.channel not in channel_ids(snapshot)
    assert all(m["channel"] != hidden.channel for m in snapshot["messages"])
    # Her own message is still in the channel, for those in it; not for her.
    assert_problem(carol.get(f"/api/channels/{hidden.channel}/messages"), 404)
    mine = [m for m in crew.bob.client.all_messages(hidden.channel) if m["sender"] == crew.carol.id]
    assert len(mine) == 1
    assert_problem(carol.delete(f"/api/messages/{mine[0]['id']}"), 404)
    assert_problem(carol.post(f"/api/messages/{mine[0]['id']}", json={"body": "edited"}), 404)
