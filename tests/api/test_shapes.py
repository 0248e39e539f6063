"""Answers and the OpenAPI document come from one definition of each shape (issue 10).

wire.py defines every JSON answer once (a msgspec Struct); GET /api/openapi.json publishes the
schemas generated from those same Structs, and the request bodies' schemas carry the input
limits of domain/names.py for clients to read instead of copying them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from conftest import ServerProcess, Site
from parlour import model
from parlour.domain.names import (
    BODY_MAX_CHARS,
    NAME_MAX_CHARS,
    PASSWORD_MAX_CHARS,
    PASSWORD_MIN_CHARS,
)
from parlour.http.body import Credentials, NewChannel, NewMessage, parse_body
from parlour.wire import Message, event_frame, message_json
from parlour_client import UNKNOWN_INVITE, assert_problem


def schemas(server: ServerProcess) -> dict[str, Any]:
    document = server.client().get("/api/openapi.json").json()
    result: dict[str, Any] = document["components"]["schemas"]
    return result


def test_the_openapi_document_publishes_the_domains_input_limits(
    shared_site: Site,
) -> None:
    server = shared_site.server
    s = schemas(server)
    assert s["Credentials"]["properties"]["name"]["maxLength"] == NAME_MAX_CHARS == 64
    assert s["Credentials"]["properties"]["password"]["minLength"] == PASSWORD_MIN_CHARS == 8
    assert s["Credentials"]["properties"]["password"]["maxLength"] == PASSWORD_MAX_CHARS == 1024
    assert s["PasswordChange"]["properties"]["to"]["minLength"] == PASSWORD_MIN_CHARS
    assert s["PasswordChange"]["properties"]["to"]["maxLength"] == PASSWORD_MAX_CHARS
    assert s["NewChannel"]["properties"]["name"]["maxLength"] == NAME_MAX_CHARS
    assert s["NewMessage"]["properties"]["body"]["maxLength"] == BODY_MAX_CHARS == 8192


def test_the_limits_are_published_not_enforced_while_decoding() -> None:
    # The domain counts code points after NFC and says what is wrong in its own words.
    long = "x" * 10_000
    assert parse_body(b'{"name": "%s"}' % long.encode(), NewChannel).name == long
    assert parse_body(b'{"body": "%s"}' % long.encode(), NewMessage).body == long
    assert parse_body(b'{"name": "", "password": ""}', Credentials).password == ""


def test_a_name_too_long_only_before_nfc_is_accepted(
    shared_site: Site,
) -> None:
    owner = shared_site.owner
    channel = owner.create_channel("e\u0301" * NAME_MAX_CHARS)
    assert channel["name"] == "\u00e9" * NAME_MAX_CHARS
    r = owner.post("/api/channels", json={"name": "e" * (NAME_MAX_CHARS + 1)})
    assert "1 to 64 characters" in assert_problem(r, 400)["detail"]


def assert_shaped(
    answer: Mapping[str, Any], schema: dict[str, Any], optional: tuple[str, ...] = ()
) -> None:
    """The answer has exactly the schema's properties, in its order, each required but the
    `optional` ones (a public channel has no `members`); an optional one it has is in its
    place."""
    properties = list(schema["properties"])
    assert schema["required"] == [p for p in properties if p not in optional], schema
    assert list(answer) == [p for p in properties if p in answer], (answer, schema)
    assert set(properties) - set(answer) <= set(optional), (answer, schema)


def test_every_answer_has_exactly_the_fields_its_schema_names(
    shared_site: Site,
) -> None:
    server, owner = shared_site.server, shared_site.owner
    s = schemas(server)
    channel = owner.create_channel("shapes")
    private = owner.post("/api/channels", json={"name": "shapes", "kind": "private"}).json()
    message = owner.send_message(channel["id"], "hello")
    invite = owner.invite()
    boot = owner.boot()
    me = boot["user"]
    link = owner.make_reset_link(me["id"])
    assert_shaped(channel, s["Channel"], optional=("members",))
    assert "members" not in channel
    assert_shaped(private, s["Channel"], optional=("members",))
    assert private["members"] == [me["id"]]
    assert_shaped(message, s["Message"])
    assert_shaped(invite, s["Invite"])
    assert_shaped(invite["issuer"], s["UserRef"])
    assert_shaped(owner.get("/api/invites").json(), s["Invites"])
    assert_shaped(link, s["ResetLink"])
    assert_shaped(link["user"], s["UserRef"])
    assert_shaped(boot, s["Boot"])
    assert_shaped(me, s["User"])
    assert_shaped(owner.change_user(me["id"]), s["User"])
    page = owner.get(f"/api/channels/{channel['id']}/messages").json()
    assert_shaped(page, s["Page"])
    assert_shaped(owner.delete_message(message["id"]), s["Deleted"])
    assert_shaped(assert_problem(owner.get(f"/api/invite/{UNKNOWN_INVITE}"), 404), s["Problem"])


def test_every_schema_the_document_refers_to_is_in_it(
    shared_site: Site,
) -> None:
    server = shared_site.server
    document = server.client().get("/api/openapi.json").json()
    references: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                references.add(node["$ref"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    known = {f"#/components/schemas/{name}" for name in document["components"]["schemas"]}
    assert references
    assert references <= known, references - known


def test_an_event_is_its_head_then_the_shape_it_is_about() -> None:
    at = datetime(2026, 11, 28, 12, 0, 1, 234000, tzinfo=UTC)
    sent = model.Message(
        model.MessageId("M" + "m" * 24),
        model.ChannelId("C" + "c" * 24),
        model.UserId("U" + "u" * 24),
        'a "body"\r\nwith two lines',
        at,
        model.Seq(7),
    )
    frame = event_frame(model.MessageSent(model.Seq(7), at, sent))
    id_line, data_line, blank, end = frame.split(b"\n")
    assert (id_line, blank, end) == (b"id: 7", b"", b"")
    data = json.loads(data_line.removeprefix(b"data: "))
    assert list(data) == ["type", "event", "at", *Message.__struct_fields__]
    assert data == {
        "type": "message",
        "event": "sent",
        "at": "2026-11-28T12:00:01.234Z",
        **msgspec.structs.asdict(message_json(sent)),
    }
    assert data["body"] == sent.body
    assert data["sent_at"] == "2026-11-28T12:00:01.234Z"
