"""Channels: create with unique names; members delete only empty ones (admins: any public
one, docs/api/members.md "Moderation", tested in tests/api/test_moderation.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    CHANNEL_ID,
    UNKNOWN_CHANNEL,
    ParlourClient,
    assert_problem,
    at_once,
    invite_user,
    parse_time,
)


def test_creating_a_channel_answers_202_with_the_channel(owner: ParlourClient) -> None:
    before = datetime.now(UTC)
    r = owner.post("/api/channels", json={"name": "general"})
    assert r.status_code == 202, r.text
    assert r.headers["content-type"].startswith("application/json")
    channel = r.json()
    assert set(channel) == {"id", "name", "created_at", "kind"}
    assert CHANNEL_ID.match(channel["id"]), channel["id"]
    assert channel["name"] == "general"
    assert channel["kind"] == "public"
    created_at = parse_time(channel["created_at"])
    assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC) + timedelta(seconds=5)


def test_created_channel_appears_in_boot_for_every_user(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = owner.create_channel("general")
    assert owner.boot()["channels"] == [channel]
    assert bob.boot()["channels"] == [channel]


def test_creating_a_channel_without_a_session_answers_401(shared_site: Site) -> None:
    anonymous = shared_site.server.client()
    assert_problem(anonymous.post("/api/channels", json={"name": "made by nobody"}), 401)
    assert "made by nobody" not in shared_site.owner.channel_names()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Caf\u00e9", "CAF\u00c9"),
        ("Caf\u00e9", "cafe\u0301"),
        ("CAF\u00c9", "cafe\u0301"),
        ("general", "General"),
        ("general", "GENERAL"),
        ("general", "\uff47eneral"),
        ("stra\u00dfe", "STRASSE"),
        ("\ufb01sh", "fish"),
    ],
    ids=[
        "case-accent",
        "decomposed",
        "upper-decomposed",
        "capital",
        "upper",
        "fullwidth",
        "sharp-s",
        "ligature",
    ],
)
def test_creating_a_channel_with_the_same_name_answers_409(
    owner: ParlourClient, first: str, second: str
) -> None:
    original = owner.create_channel(first)
    assert_problem(owner.post("/api/channels", json={"name": second}), 409)
    assert owner.boot()["channels"] == [original]


def test_names_that_differ_after_case_folding_are_different_channels(
    owner: ParlourClient,
) -> None:
    owner.create_channel("Caf\u00e9")
    owner.create_channel("Cafe")
    owner.create_channel("Caf\u00e9 2")
    assert owner.channel_names() == ["Caf\u00e9", "Cafe", "Caf\u00e9 2"]


def test_channel_name_is_shown_as_typed_after_nfc(owner: ParlourClient) -> None:
    assert owner.create_channel("Caf\u00e9 TALK")["name"] == "Caf\u00e9 TALK"
    assert owner.create_channel("Rene\u0301e")["name"] == "Ren\u00e9e"
    assert owner.create_channel("<b>&amp;</b>")["name"] == "<b>&amp;</b>"
    assert owner.channel_names() == ["Caf\u00e9 TALK", "Ren\u00e9e", "<b>&amp;</b>"]


@pytest.mark.parametrize(
    "name",
    [
        "",
        " general",
        "general ",
        "\tgeneral",
        "general\n",
        "\u00a0general",
        "general\u3000",
        "g" * 65,
        "gen\u0000eral",
        "gen\u001beral",
        "gen\u007feral",
        "gen\u0085eral",
        "gen\u200beral",
        "gen\u2066eral",
        "gen\ufefferal",
        "gen\u202eeral",
        "gen\neral",
        "gen\r\neral",
        "gen\u2028eral",
        "gen\u2029eral",
        "gen\teral",
        " ",
    ],
    ids=[
        "empty",
        "leading-space",
        "trailing-space",
        "leading-tab",
        "trailing-newline",
        "leading-nbsp",
        "trailing-ideographic-space",
        "65-chars",
        "nul",
        "escape",
        "delete",
        "next-line",
        "zero-width-space",
        "left-to-right-isolate",
        "byte-order-mark",
        "right-to-left-override",
        "newline",
        "crlf",
        "line-separator",
        "paragraph-separator",
        "inner-tab",
        "only-space",
    ],
)
def test_creating_a_channel_with_an_invalid_name_answers_400(
    shared_owner: ParlourClient, name: str
) -> None:
    assert_problem(shared_owner.post("/api/channels", json={"name": name}), 400)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("g" * 64, "g" * 64),
        ("x", "x"),
        ("e\u0301" * 64, "\u00e9" * 64),
        ("general chat", "general chat"),
        ("\U0001f600 fun", "\U0001f600 fun"),
        ("\u65e5\u672c\u8a9e", "\u65e5\u672c\u8a9e"),
    ],
    ids=["64-chars", "one-char", "64-after-nfc", "inner-space", "emoji", "cjk"],
)
def test_channel_names_within_the_rules_are_accepted(
    shared_owner: ParlourClient, name: str, shown: str
) -> None:
    r = shared_owner.post("/api/channels", json={"name": name})
    assert r.status_code == 202, r.text
    assert r.json()["name"] == shown


@pytest.mark.parametrize(
    "body",
    [{}, {"name": None}, {"name": 7}, {"name": ["general"]}, {"title": "general"}],
    ids=["empty", "null", "number", "list", "wrong-field"],
)
def test_creating_a_channel_with_a_missing_or_mistyped_name_answers_400(
    shared_owner: ParlourClient, body: dict[str, Any]
) -> None:
    assert_problem(shared_owner.post("/api/channels", json=body), 400)


def test_deleting_an_empty_channel_answers_202_with_its_id(owner: ParlourClient) -> None:
    channel = owner.create_channel("general")
    r = owner.delete(f"/api/channels/{channel['id']}")
    assert r.status_code == 202, r.text
    assert r.json() == {"id": channel["id"]}
    assert owner.channel_names() == []


def test_deleting_a_channel_twice_answers_404(owner: ParlourClient) -> None:
    channel = owner.create_channel("general")
    owner.delete_channel(channel["id"])
    assert_problem(owner.delete(f"/api/channels/{channel['id']}"), 404)


@pytest.mark.parametrize(
    "channel_id",
    [UNKNOWN_CHANNEL, "general", "C", "Cshort", "M" + "x" * 24, "C" + "*" * 24],
    ids=["unknown", "name", "prefix-only", "too-short", "message-prefix", "bad-alphabet"],
)
def test_deleting_an_unknown_or_malformed_channel_answers_404(
    shared_owner: ParlourClient, channel_id: str
) -> None:
    assert_problem(shared_owner.delete(f"/api/channels/{channel_id}"), 404)


def test_a_member_deleting_a_channel_that_holds_messages_gets_409(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = bob.create_channel("general")
    bob.send_message(channel["id"])
    assert_problem(bob.delete(f"/api/channels/{channel['id']}"), 409)
    assert owner.channel_names() == ["general"]


def test_a_member_may_delete_a_channel_once_its_messages_are_deleted(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = bob.create_channel("general")
    messages = [bob.send_message(channel["id"], f"message {i}") for i in range(2)]
    bob.delete_message(messages[0]["id"])
    assert_problem(bob.delete(f"/api/channels/{channel['id']}"), 409)
    bob.delete_message(messages[1]["id"])
    bob.delete_channel(channel["id"])


def test_no_member_can_delete_a_channel_holding_another_users_messages(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    carol = invite_user(server, owner, "Carol")
    channel = bob.create_channel("general")
    carol.send_message(channel["id"], "mine")
    assert_problem(bob.delete(f"/api/channels/{channel['id']}"), 409)
    assert_problem(carol.delete(f"/api/channels/{channel['id']}"), 409)
    assert owner.channel_names() == ["general"]


def test_any_user_may_delete_an_empty_channel(server: ServerProcess, owner: ParlourClient) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = owner.create_channel("general")
    bob.delete_channel(channel["id"])
    assert owner.channel_names() == []


def test_deleting_a_channel_without_a_session_answers_401(
    server: ServerProcess, owner: ParlourClient
) -> None:
    channel = owner.create_channel("general")
    assert_problem(server.client().delete(f"/api/channels/{channel['id']}"), 401)
    assert owner.channel_names() == ["general"]


def test_name_of_a_deleted_channel_can_be_used_again(owner: ParlourClient) -> None:
    old = owner.create_channel("general")
    owner.delete_channel(old["id"])
    new = owner.create_channel("GENERAL")
    assert new["id"] != old["id"]
    assert owner.channel_names() == ["GENERAL"]


def test_sending_to_a_deleted_channel_answers_404(owner: ParlourClient) -> None:
    channel = owner.create_channel("general")
    owner.delete_channel(channel["id"])
    assert_problem(owner.post(f"/api/channels/{channel['id']}", json={"body": "hi"}), 404)


def test_of_many_concurrent_creates_of_one_name_exactly_one_succeeds(
    server: ServerProcess, owner: ParlourClient
) -> None:
    attempts = 16
    token = owner.token
    clients = [server.client(token=token) for _ in range(attempts)]
    spellings = ["Caf\u00e9", "CAF\u00c9", "cafe\u0301", "caf\u00e9"]

    def attempt(i: int) -> int:
        body = {"name": spellings[i % len(spellings)]}
        return clients[i].post("/api/channels", json=body).status_code

    statuses = at_once(attempts, attempt)

    assert statuses.count(202) == 1, statuses
    assert statuses.count(409) == attempts - 1, statuses
    assert len(owner.boot()["channels"]) == 1


def test_concurrent_creates_of_different_names_all_succeed(
    server: ServerProcess, owner: ParlourClient
) -> None:
    attempts = 16
    token = owner.token
    clients = [server.client(token=token) for _ in range(attempts)]

    def attempt(i: int) -> int:
        return clients[i].post("/api/channels", json={"name": f"room {i}"}).status_code

    statuses = at_once(attempts, attempt)

    assert statuses == [202] * attempts
    assert sorted(owner.channel_names()) == sorted(f"room {i}" for i in range(attempts))
