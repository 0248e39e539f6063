"""Deleted, edited-away and expired words leave no trace in SQLite's files, index included.

docs/api/search.md: a word that is no longer in any retained message must be nowhere in the
database file or its WAL, read as bytes: not in the message's row, not in FTS5's index
(whose `secure-delete` option removes it at once), not in a page image the WAL still holds
(a checkpoint follows every edit and deletion within seconds, and every expiry sweep).
Each test first proves that it can see the word where it is stored (the row and the index),
so that not finding it later means something.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from conftest import ServerProcess
from parlour.store.sqlite import driver
from parlour_client import ParlourClient

pytestmark = pytest.mark.sqlite_only

# The checkpoint that follows an edit or deletion (store/facade.py: 2 s), with room to spare.
ERASED_WITHIN_SECONDS = 8.0
SHORT_EXPIRY = ("--message-expiry", "2s", "--channel-expiry", "1h", "--expiry-interval", "1s")


def unique_word() -> str:
    """A word that shares at most a letter or two with any other, so that FTS5's prefix
    compression (a term is stored as what it adds to the previous one) keeps it whole."""
    return "q" + uuid.uuid4().hex


def needle(word: str) -> bytes:
    return word[3:].encode()


def files_holding(server: ServerProcess, word: str) -> list[str]:
    files = sorted(server.database.parent.glob(server.database.name + "*"))
    return [f.name for f in files if f.is_file() and needle(word) in f.read_bytes()]


def index_holds(server: ServerProcess, word: str) -> bool:
    """Whether FTS5's index (its `message_search_data` blocks) holds the word, as read by a
    reader beside the running server."""
    conn = driver.connect(server.database)
    try:
        blocks = conn.execute("SELECT block FROM message_search_data").fetchall()
    finally:
        conn.close()
    return any(needle(word) in bytes(block) for (block,) in blocks if block)


def wait_until_gone(server: ServerProcess, word: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (holders := files_holding(server, word)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert holders == [], f"{word} is still in {holders}"
    assert not index_holds(server, word)


def start(start_server: Any, *args: str) -> tuple[ServerProcess, ParlourClient, str]:
    server: ServerProcess = start_server(*args)
    owner = server.client()
    owner.set_up()
    return server, owner, owner.create_channel("general")["id"]


def send_word(server: ServerProcess, owner: ParlourClient, channel: str, word: str) -> str:
    message = owner.send_message(channel, f"remember {word} please")
    assert files_holding(server, word), "the test cannot see the stored body"
    assert index_holds(server, word), "the test cannot see the word in the index"
    found = owner.get("/api/search", params={"q": word}).json()["results"]
    assert [r["message"]["id"] for r in found] == [message["id"]]
    message_id: str = message["id"]
    return message_id


def test_a_deleted_messages_words_leave_the_files(start_server: Any) -> None:
    server, owner, channel = start(start_server)
    word = unique_word()
    message_id = send_word(server, owner, channel, word)
    owner.send_message(channel, "something to keep")
    assert owner.delete(f"/api/messages/{message_id}").status_code == 202
    wait_until_gone(server, word, ERASED_WITHIN_SECONDS)


def test_edited_away_words_leave_the_files_and_the_new_ones_are_indexed(
    start_server: Any,
) -> None:
    server, owner, channel = start(start_server)
    old, new = unique_word(), unique_word()
    message_id = send_word(server, owner, channel, old)
    r = owner.post(f"/api/messages/{message_id}", json={"body": f"remember {new} instead"})
    assert r.status_code == 202, r.text
    wait_until_gone(server, old, ERASED_WITHIN_SECONDS)
    assert index_holds(server, new)
    assert owner.get("/api/search", params={"q": old}).json()["results"] == []


def test_an_expired_messages_words_leave_the_files(start_server: Any) -> None:
    server, owner, channel = start(start_server, *SHORT_EXPIRY)
    word = unique_word()
    send_word(server, owner, channel, word)
    wait_until_gone(server, word, 2 + 1 + ERASED_WITHIN_SECONDS)


def test_the_words_of_a_channel_deleted_with_its_messages_leave_the_files(
    start_server: Any,
) -> None:
    server, owner, _ = start(start_server)
    doomed = owner.create_channel("doomed")["id"]
    word = unique_word()
    send_word(server, owner, doomed, word)
    assert owner.delete(f"/api/channels/{doomed}").status_code == 202  # by an admin
    wait_until_gone(server, word, ERASED_WITHIN_SECONDS)


def test_no_word_survives_a_restart_after_its_deletion(start_server: Any) -> None:
    server, owner, channel = start(start_server)
    word = unique_word()
    message_id = send_word(server, owner, channel, word)
    assert owner.delete(f"/api/messages/{message_id}").status_code == 202
    assert server.stop() == 0
    assert files_holding(server, word) == []
    assert not index_holds(server, word)


def test_the_index_file_pages_of_many_messages_lose_one_deleted_word(
    start_server: Any, tmp_path: Path
) -> None:
    """With enough messages for FTS5 to merge its segments, the deleted word is still gone."""
    server, owner, channel = start(start_server)
    words = [unique_word() for _ in range(40)]
    ids = [owner.send_message(channel, f"{w} and more")["id"] for w in words]
    victim = 17
    assert owner.delete(f"/api/messages/{ids[victim]}").status_code == 202
    wait_until_gone(server, words[victim], ERASED_WITHIN_SECONDS)
    assert index_holds(server, words[victim + 1])
