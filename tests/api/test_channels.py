"""Channels: create with unique names, delete only when empty."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from conftest import OWNER_NAME, OWNER_PASSWORD, ServerProcess, assert_problem, invite_user

CHANNEL_ID = re.compile(r"^C[A-Za-z0-9_-]{16,}$")
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
UNKNOWN_CHANNEL = "C" + "x" * 24


def create(client: httpx.Client, name: str) -> dict[str, Any]:
    r = client.post("/api/channels", json={"name": name})
    assert r.status_code == 202, r.text
    channel: dict[str, Any] = r.json()
    return channel


def send(client: httpx.Client, channel_id: str, body: str = "hello") -> dict[str, Any]:
    r = client.post(f"/api/channels/{channel_id}", json={"body": body})
    assert r.status_code == 202, r.text
    message: dict[str, Any] = r.json()
    return message


def channel_names(client: httpx.Client) -> list[str]:
    return [c["name"] for c in client.get("/api/boot").json()["channels"]]


@pytest.fixture(scope="module")
def shared_owner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One set-up server for checks that create channels with distinct names."""
    s = ServerProcess(tmp_path_factory.mktemp("channels") / "parlour.db").start()
    c = s.client()
    r = c.post("/api/setup", json={"name": OWNER_NAME, "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text
    yield c
    s.close()


def test_creating_a_channel_answers_202_with_the_channel(owner: httpx.Client) -> None:
    before = datetime.now(UTC)
    r = owner.post("/api/channels", json={"name": "general"})
    assert r.status_code == 202, r.text
    assert r.headers["content-type"].startswith("application/json")
    channel = r.json()
    assert set(channel) == {"id", "name", "created_at"}
    assert CHANNEL_ID.match(channel["id"]), channel["id"]
    assert channel["name"] == "general"
    assert TIME.match(channel["created_at"]), channel["created_at"]
    created_at = datetime.fromisoformat(channel["created_at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC) + timedelta(seconds=5)


def test_created_channel_appears_in_boot_for_every_user(
    server: ServerProcess, owner: httpx.Client
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = create(owner, "general")
    assert owner.get("/api/boot").json()["channels"] == [channel]
    assert bob.get("/api/boot").json()["channels"] == [channel]


def test_creating_a_channel_without_a_session_answers_401(
    server: ServerProcess, owner: httpx.Client
) -> None:
    assert_problem(server.client().post("/api/channels", json={"name": "general"}), 401)
    assert channel_names(owner) == []


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
    owner: httpx.Client, first: str, second: str
) -> None:
    original = create(owner, first)
    assert_problem(owner.post("/api/channels", json={"name": second}), 409)
    assert owner.get("/api/boot").json()["channels"] == [original]


def test_names_that_differ_after_case_folding_are_different_channels(
    owner: httpx.Client,
) -> None:
    create(owner, "Caf\u00e9")
    create(owner, "Cafe")
    create(owner, "Caf\u00e9 2")
    assert channel_names(owner) == ["Caf\u00e9", "Cafe", "Caf\u00e9 2"]


def test_channel_name_is_shown_as_typed_after_nfc(owner: httpx.Client) -> None:
    assert create(owner, "Caf\u00e9 TALK")["name"] == "Caf\u00e9 TALK"
    assert create(owner, "Rene\u0301e")["name"] == "Ren\u00e9e"
    assert create(owner, "<b>&amp;</b>")["name"] == "<b>&amp;</b>"
    assert channel_names(owner) == ["Caf\u00e9 TALK", "Ren\u00e9e", "<b>&amp;</b>"]


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
    shared_owner: httpx.Client, name: str
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
    shared_owner: httpx.Client, name: str, shown: str
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
    shared_owner: httpx.Client, body: dict[str, Any]
) -> None:
    assert_problem(shared_owner.post("/api/channels", json=body), 400)


def test_deleting_an_empty_channel_answers_202_with_its_id(owner: httpx.Client) -> None:
    channel = create(owner, "general")
    r = owner.delete(f"/api/channels/{channel['id']}")
    assert r.status_code == 202, r.text
    assert r.json() == {"id": channel["id"]}
    assert channel_names(owner) == []


def test_deleting_a_channel_twice_answers_404(owner: httpx.Client) -> None:
    channel = create(owner, "general")
    assert owner.delete(f"/api/channels/{channel['id']}").status_code == 202
    assert_problem(owner.delete(f"/api/channels/{channel['id']}"), 404)


@pytest.mark.parametrize(
    "channel_id",
    [UNKNOWN_CHANNEL, "general", "C", "Cshort", "M" + "x" * 24, "C" + "*" * 24],
    ids=["unknown", "name", "prefix-only", "too-short", "message-prefix", "bad-alphabet"],
)
def test_deleting_an_unknown_or_malformed_channel_answers_404(
    owner: httpx.Client, channel_id: str
) -> None:
    assert_problem(owner.delete(f"/api/channels/{channel_id}"), 404)


def test_deleting_a_channel_that_holds_messages_answers_409(owner: httpx.Client) -> None:
    channel = create(owner, "general")
    send(owner, channel["id"])
    assert_problem(owner.delete(f"/api/channels/{channel['id']}"), 409)
    assert channel_names(owner) == ["general"]


def test_channel_can_be_deleted_once_its_messages_are_deleted(owner: httpx.Client) -> None:
    channel = create(owner, "general")
    messages = [send(owner, channel["id"], f"message {i}") for i in range(2)]
    assert owner.delete(f"/api/messages/{messages[0]['id']}").status_code == 202
    assert_problem(owner.delete(f"/api/channels/{channel['id']}"), 409)
    assert owner.delete(f"/api/messages/{messages[1]['id']}").status_code == 202
    assert owner.delete(f"/api/channels/{channel['id']}").status_code == 202


def test_nobody_can_delete_a_channel_holding_another_users_messages(
    server: ServerProcess, owner: httpx.Client
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = create(owner, "general")
    send(bob, channel["id"], "mine")
    assert_problem(owner.delete(f"/api/channels/{channel['id']}"), 409)
    assert_problem(bob.delete(f"/api/channels/{channel['id']}"), 409)


def test_any_user_may_delete_an_empty_channel(server: ServerProcess, owner: httpx.Client) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = create(owner, "general")
    assert bob.delete(f"/api/channels/{channel['id']}").status_code == 202
    assert channel_names(owner) == []


def test_deleting_a_channel_without_a_session_answers_401(
    server: ServerProcess, owner: httpx.Client
) -> None:
    channel = create(owner, "general")
    assert_problem(server.client().delete(f"/api/channels/{channel['id']}"), 401)
    assert channel_names(owner) == ["general"]


def test_name_of_a_deleted_channel_can_be_used_again(owner: httpx.Client) -> None:
    old = create(owner, "general")
    assert owner.delete(f"/api/channels/{old['id']}").status_code == 202
    new = create(owner, "GENERAL")
    assert new["id"] != old["id"]
    assert channel_names(owner) == ["GENERAL"]


def test_sending_to_a_deleted_channel_answers_404(owner: httpx.Client) -> None:
    channel = create(owner, "general")
    assert owner.delete(f"/api/channels/{channel['id']}").status_code == 202
    assert_problem(owner.post(f"/api/channels/{channel['id']}", json={"body": "hi"}), 404)


def test_of_many_concurrent_creates_of_one_name_exactly_one_succeeds(
    server: ServerProcess, owner: httpx.Client
) -> None:
    attempts = 16
    token = owner.cookies.get("identity")
    clients = [server.client(headers={"cookie": f"identity={token}"}) for _ in range(attempts)]
    spellings = ["Caf\u00e9", "CAF\u00c9", "cafe\u0301", "caf\u00e9"]
    barrier = threading.Barrier(attempts, timeout=10)

    def attempt(i: int) -> int:
        barrier.wait()
        body = {"name": spellings[i % len(spellings)]}
        return clients[i].post("/api/channels", json=body).status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = list(pool.map(attempt, range(attempts)))

    assert statuses.count(202) == 1, statuses
    assert statuses.count(409) == attempts - 1, statuses
    assert len(owner.get("/api/boot").json()["channels"]) == 1


def test_concurrent_creates_of_different_names_all_succeed(
    server: ServerProcess, owner: httpx.Client
) -> None:
    attempts = 16
    token = owner.cookies.get("identity")
    clients = [server.client(headers={"cookie": f"identity={token}"}) for _ in range(attempts)]
    barrier = threading.Barrier(attempts, timeout=10)

    def attempt(i: int) -> int:
        barrier.wait()
        return clients[i].post("/api/channels", json={"name": f"room {i}"}).status_code

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        statuses = list(pool.map(attempt, range(attempts)))

    assert statuses == [202] * attempts
    assert sorted(channel_names(owner)) == sorted(f"room {i}" for i in range(attempts))
