"""GET /api/search (docs/api/search.md): every status and rule, visibility, and a property.

The property: whatever messages are sent, edited and deleted, in channels the searcher may or
may not see, every query (well-formed or hostile) finds exactly what a brute-force scan of
the visible, current bodies finds, with the same highlights, newest first, page by page. It
runs on both stores (PARLOUR_TEST_STORE=postgres runs this file again on PostgreSQL); one
test also runs the same data and queries on both at once and compares.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POSTGRES_ADMIN_URL, ServerProcess, fresh_postgres_database
from parlour.domain.search import parse_query
from parlour.store import copy_to_postgres
from parlour.store.words import Phrase, SearchQuery, fold, words
from parlour_client import OWNER_NAME, OWNER_PASSWORD, ParlourClient, assert_problem, invite_user

FIXTURE = Path(__file__).parent.parent / "fixtures" / "revision1.db"
SHORT_EXPIRY = ("--message-expiry", "2s", "--channel-expiry", "1h", "--expiry-interval", "1s")


def search(client: ParlourClient, q: str, **params: Any) -> dict[str, Any]:
    r = client.get("/api/search", params={"q": q, **params})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    result: dict[str, Any] = r.json()
    return result


def bodies(client: ParlourClient, q: str, **params: Any) -> list[str]:
    return [r["message"]["body"] for r in search(client, q, **params)["results"]]


def edit(client: ParlourClient, message_id: str, body: str) -> dict[str, Any]:
    r = client.post(f"/api/messages/{message_id}", json={"body": body})
    assert r.status_code == 202, r.text
    result: dict[str, Any] = r.json()
    return result


def private_channel(client: ParlourClient, name: str, members: list[str]) -> dict[str, Any]:
    r = client.post("/api/channels", json={"name": name, "kind": "private", "members": members})
    assert r.status_code == 202, r.text
    result: dict[str, Any] = r.json()
    return result


@pytest.fixture
def general(owner: ParlourClient) -> str:
    channel: str = owner.create_channel("general")["id"]
    return channel


# -- statuses ------------------------------------------------------------------------------


def test_search_before_setup_answers_503(server: ServerProcess) -> None:
    assert_problem(server.client().get("/api/search", params={"q": "x"}), 503)


def test_search_without_a_session_answers_401(server: ServerProcess, owner: ParlourClient) -> None:
    assert_problem(server.client().get("/api/search", params={"q": "x"}), 401)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": " \t\n\u3000"},
        {"q": "x" * 1001},
        {"q": "x", "limit": "0"},
        {"q": "x", "limit": "101"},
        {"q": "x", "limit": "-1"},
        {"q": "x", "limit": "ten"},
        {"q": "x", "limit": ""},
        {"q": "x", "before": str(2**63)},
        {"q": "x", "before": "9" * 5000},
        {"q": "x", "before": "-5"},
        {"q": "x", "before": "1.5"},
    ],
)
def test_invalid_parameters_answer_400(owner: ParlourClient, params: dict[str, str]) -> None:
    assert_problem(owner.get("/api/search", params=params), 400)


def test_a_query_of_1000_characters_is_fine_and_so_is_any_limit_from_1_to_100(
    owner: ParlourClient, general: str
) -> None:
    owner.send_message(general, "x")
    assert bodies(owner, "x " * 500) == ["x"]
    assert bodies(owner, "x", limit=1) == ["x"]
    assert bodies(owner, "x", limit=100) == ["x"]
    assert search(owner, "x", before=str(2**63 - 1))["results"]


def test_an_unknown_malformed_or_invisible_channel_answers_404(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    hidden = private_channel(bob, "hidden", [])
    for channel in ["C" + "x" * 20, "nonsense", "", hidden["id"]]:
        assert_problem(owner.get("/api/search", params={"q": "x", "channel": channel}), 404)


def test_400_comes_before_404(owner: ParlourClient) -> None:
    r = owner.get("/api/search", params={"q": "x", "limit": "0", "channel": "Cnope"})
    assert_problem(r, 400)


def test_head_answers_like_get_without_a_body_and_post_is_405(owner: ParlourClient) -> None:
    r = owner.head("/api/search", params={"q": "x"})
    assert r.status_code == 200
    assert r.content == b""
    r = owner.post("/api/search", json={})
    assert_problem(r, 405)
    assert "GET" in r.headers["allow"]


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '""',
        '"unclosed phrase',
        "*",
        "**",
        "a**",
        "*a",
        "NEAR(a b, 2)",
        "a AND b OR NOT c",
        "(((",
        ")",
        "-a",
        "^a",
        "col:a",
        "a + b",
        "{a b}",
        "'",
        "\\",
        "%",
        "?",
        "😀" * 1000,
        "🥰" * 1000,
        "\u0301",
        "'' \" ' \\\" :* <-> & | !",
        "a:*",
        "a <-> b",
        "!a & b",
        "\x00",
        "\ufffd",
    ],
)
def test_any_text_is_a_query_and_never_an_error(owner: ParlourClient, general: str, q: str) -> None:
    owner.send_message(general, "a b c NEAR AND OR NOT col")
    result = search(owner, q)
    assert isinstance(result["results"], list)
    assert result["older"] is False


# -- what matches --------------------------------------------------------------------------


def test_words_match_whatever_their_case_and_accents(owner: ParlourClient, general: str) -> None:
    owner.send_message(general, "Un café, s'il vous plaît")
    owner.send_message(general, "NAÏVE CAFE")
    assert bodies(owner, "cafe") == ["NAÏVE CAFE", "Un café, s'il vous plaît"]
    assert bodies(owner, "CAFÉ") == ["NAÏVE CAFE", "Un café, s'il vous plaît"]
    assert bodies(owner, "cafe\u0301") == ["NAÏVE CAFE", "Un café, s'il vous plaît"]
    assert bodies(owner, "naive") == ["NAÏVE CAFE"]
    assert bodies(owner, "PLAIT") == ["Un café, s'il vous plaît"]


def test_every_word_must_appear(owner: ParlourClient, general: str) -> None:
    owner.send_message(general, "the quick brown fox")
    owner.send_message(general, "a brown cow")
    assert bodies(owner, "brown") == ["a brown cow", "the quick brown fox"]
    assert bodies(owner, "brown fox") == ["the quick brown fox"]
    assert bodies(owner, "fox brown") == ["the quick brown fox"]
    assert bodies(owner, "brown fox cow") == []


def test_a_word_matches_only_itself_no_stemming(owner: ParlourClient, general: str) -> None:
    owner.send_message(general, "cats and dogs")
    assert bodies(owner, "cat") == []
    assert bodies(owner, "dog") == []
    assert bodies(owner, "cats") == ["cats and dogs"]


def test_a_quoted_phrase_matches_its_words_in_order_side_by_side(
    owner: ParlourClient, general: str
) -> None:
    owner.send_message(general, "the brown fox")
    owner.send_message(general, "the fox, brown")
    owner.send_message(general, "brown and fox")
    assert bodies(owner, '"brown fox"') == ["the brown fox"]
    assert bodies(owner, '"fox brown"') == ["the fox, brown"]
    assert bodies(owner, '"brown fox" the') == ["the brown fox"]
    assert bodies(owner, '"brown fox') == ["the brown fox"]  # an unpaired quote runs to the end


def test_a_star_after_a_word_makes_it_a_prefix(owner: ParlourClient, general: str) -> None:
    owner.send_message(general, "Parlour parley")
    owner.send_message(general, "a parrot")
    owner.send_message(general, "apart")
    assert bodies(owner, "par*") == ["a parrot", "Parlour parley"]
    assert bodies(owner, "PARL*") == ["Parlour parley"]
    assert bodies(owner, "par") == []
    assert bodies(owner, '"a par*"') == ["a parrot"]
    assert bodies(owner, "par *") == []  # a star alone means nothing; "par" is a whole word


def test_words_joined_by_punctuation_are_a_phrase(owner: ParlourClient, general: str) -> None:
    owner.send_message(general, "e-mail me: user@example.com")
    owner.send_message(general, "mail for e")
    assert bodies(owner, "e-mail") == ["e-mail me: user@example.com"]
    assert bodies(owner, "example") == ["e-mail me: user@example.com"]
    assert bodies(owner, "user@example.com") == ["e-mail me: user@example.com"]


def test_operators_and_punctuation_are_no_syntax(owner: ParlourClient, general: str) -> None:
    owner.send_message(general, "cats OR dogs")
    owner.send_message(general, "cats and dogs")
    assert bodies(owner, "cats OR dogs") == ["cats OR dogs"]
    assert bodies(owner, "cats (dogs)") == ["cats and dogs", "cats OR dogs"]
    assert bodies(owner, "NOT cats") == []
    assert bodies(owner, "!!! ???") == []


def test_highlights_are_code_point_offsets_of_the_words_that_matched(
    owner: ParlourClient, general: str
) -> None:
    body = "👩‍💻 Café-au-lait: CAFÉ! cafes"
    owner.send_message(general, body)
    (result,) = search(owner, "cafe")["results"]
    assert result["message"]["body"] == body
    assert result["highlights"] == [[4, 8], [18, 22]]
    assert [body[s:e] for s, e in result["highlights"]] == ["Café", "CAFÉ"]
    (result,) = search(owner, '"au lait" caf*')["results"]
    assert [body[s:e] for s, e in result["highlights"]] == [
        "Café", "au", "lait", "CAFÉ", "cafes"]  # fmt: skip


def test_results_are_whole_messages_newest_first(owner: ParlourClient, general: str) -> None:
    sent = [owner.send_message(general, f"hello {n}") for n in range(3)]
    results = search(owner, "hello")["results"]
    assert [r["message"] for r in results] == sent[::-1]


def test_pages_go_below_before_and_say_whether_more_are_older(
    owner: ParlourClient, general: str
) -> None:
    sent = [owner.send_message(general, f"page {n}") for n in range(7)]
    owner.send_message(general, "something else")
    newest = sent[::-1]
    first = search(owner, "page", limit=3)
    assert [r["message"]["id"] for r in first["results"]] == [m["id"] for m in newest[:3]]
    assert first["older"] is True
    second = search(owner, "page", limit=3, before=first["results"][-1]["message"]["seq"])
    assert [r["message"]["id"] for r in second["results"]] == [m["id"] for m in newest[3:6]]
    assert second["older"] is True
    third = search(owner, "page", limit=3, before=second["results"][-1]["message"]["seq"])
    assert [r["message"]["id"] for r in third["results"]] == [newest[6]["id"]]
    assert third["older"] is False
    assert search(owner, "page", before=sent[0]["seq"]) == {"results": [], "older": False}
    assert len(search(owner, "page")["results"]) == 7  # default limit 20


def test_the_default_limit_is_20(owner: ParlourClient, general: str) -> None:
    for n in range(21):
        owner.send_message(general, f"many {n}")
    result = search(owner, "many")
    assert len(result["results"]) == 20
    assert result["older"] is True


def test_channel_narrows_the_search_to_one_channel(owner: ParlourClient, general: str) -> None:
    other = owner.create_channel("other")["id"]
    owner.send_message(general, "here")
    owner.send_message(other, "here too")
    assert bodies(owner, "here", channel=general) == ["here"]
    assert bodies(owner, "here", channel=other) == ["here too"]
    assert bodies(owner, "here") == ["here too", "here"]


def test_results_carry_reactions_mentions_and_edits(
    server: ServerProcess, owner: ParlourClient, general: str
) -> None:
    bob = invite_user(server, owner, "Bob")
    bob_id = bob.get("/api/boot").json()["user"]["id"]
    r = owner.post(f"/api/channels/{general}", json={"body": "hi Bob", "mentions": [bob_id]})
    message = r.json()
    r = bob.post(f"/api/messages/{message['id']}/reactions", json={"emoji": "👍"})
    assert r.status_code == 202, r.text
    (result,) = search(bob, "bob")["results"]
    assert result["message"]["mentions"] == [bob_id]
    assert result["message"]["reactions"] == [{"emoji": "👍", "users": [bob_id]}]


# -- visibility ----------------------------------------------------------------------------


def test_a_private_channels_messages_are_found_only_by_its_members(
    server: ServerProcess, owner: ParlourClient, general: str
) -> None:
    bob = invite_user(server, owner, "Bob")
    carol = invite_user(server, owner, "Carol")
    carol_id = carol.get("/api/boot").json()["user"]["id"]
    secret = private_channel(bob, "secret", [carol_id])
    bob.send_message(secret["id"], "the secret plan")
    owner.send_message(general, "a public plan")
    # The owner is an admin: admins are no exception.
    assert bodies(owner, "plan") == ["a public plan"]
    assert bodies(owner, "secret") == []
    assert bodies(bob, "plan") == ["a public plan", "the secret plan"]
    assert bodies(carol, "secret plan", channel=secret["id"]) == ["the secret plan"]
    # Carol leaves: the channel's messages are no longer hers to find.
    r = carol.delete(f"/api/channels/{secret['id']}/members/{carol_id}")
    assert r.status_code == 202, r.text
    assert bodies(carol, "plan") == ["a public plan"]
    assert_problem(carol.get("/api/search", params={"q": "x", "channel": secret["id"]}), 404)


def test_a_direct_channels_messages_are_found_only_by_its_members(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    carol = invite_user(server, owner, "Carol")
    bob_id = bob.get("/api/boot").json()["user"]["id"]
    r = carol.post("/api/direct", json={"members": [bob_id]})
    assert r.status_code == 202, r.text
    carol.send_message(r.json()["id"], "just between us")
    assert bodies(bob, "between") == ["just between us"]
    assert bodies(carol, "between") == ["just between us"]
    assert bodies(owner, "between") == []


# -- deleted, edited and expired text is never found ---------------------------------------


def test_an_edited_message_is_found_by_its_new_words_only(
    owner: ParlourClient, general: str
) -> None:
    message = owner.send_message(general, "teh typo")
    edited = edit(owner, message["id"], "the fix")
    assert bodies(owner, "teh") == []
    assert bodies(owner, "typo") == []
    (result,) = search(owner, "fix")["results"]
    assert result["message"] == edited
    assert result["message"]["edited_at"] is not None


def test_a_deleted_message_is_never_found(owner: ParlourClient, general: str) -> None:
    message = owner.send_message(general, "regrettable words")
    owner.send_message(general, "other words")
    assert owner.delete(f"/api/messages/{message['id']}").status_code == 202
    assert bodies(owner, "words") == ["other words"]
    assert bodies(owner, "regrettable") == []


def test_a_channel_deleted_with_its_messages_leaves_none_to_find(
    owner: ParlourClient, general: str
) -> None:
    doomed = owner.create_channel("doomed")["id"]
    owner.send_message(doomed, "doomed words")
    assert owner.delete(f"/api/channels/{doomed}").status_code == 202  # an admin may
    assert bodies(owner, "doomed") == []


def test_an_expired_message_is_never_found(start_server: Any) -> None:
    server: ServerProcess = start_server(*SHORT_EXPIRY)
    owner = server.client()
    owner.set_up()
    channel = owner.create_channel("general")["id"]
    owner.send_message(channel, "fleeting words")
    assert bodies(owner, "fleeting") == ["fleeting words"]
    deadline = time.monotonic() + 2 + 1 + 5
    while bodies(owner, "fleeting") and time.monotonic() < deadline:
        time.sleep(0.25)
    assert bodies(owner, "fleeting") == []


# -- upgrades ------------------------------------------------------------------------------


def check_old_messages_are_found(server: ServerProcess) -> None:
    ada = server.client()
    r = ada.post("/api/auth/login", json={"name": "Ada", "password": "ada password"})
    assert r.status_code == 200, r.text
    assert bodies(ada, "hello") == [f"hello {i} from Ada" for i in range(4, -1, -1)]
    assert bodies(ada, '"3 from brendan"') == ["hi 3 from Brendan"]
    assert bodies(ada, "deleted") == []


@pytest.mark.sqlite_only
def test_messages_from_before_the_upgrade_are_found(tmp_path: Path, start_server: Any) -> None:
    path = tmp_path / "parlour.db"
    shutil.copyfile(FIXTURE, path)
    check_old_messages_are_found(start_server(database=path))


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster")
def test_messages_copied_from_sqlite_to_postgresql_are_found(
    tmp_path: Path, start_server: Any
) -> None:
    """The index is built by parlour as messages land: by migration 0006 for a database
    that had messages, and by `migrate-to-postgres` for a copied community."""
    path = tmp_path / "parlour.db"
    shutil.copyfile(FIXTURE, path)
    url = fresh_postgres_database()
    copied = copy_to_postgres(str(path), url)
    assert copied.rows["messages"] == 10
    server = ServerProcess(tmp_path / "unused.db", database_url=url)
    try:
        server.start()
        check_old_messages_are_found(server)
    finally:
        server.close()


# -- the property --------------------------------------------------------------------------

VOCABULARY = [
    "café", "CAFE", "Cafés", "thé", "the", "brown", "Brown", "BROWN", "fox", "foxes",
    "naïve", "naive", "dog", "e-mail", "x²", "🥰", "Straße", "straße", "ΚΑΦΕ", "1.5",
    "don't", "a", "A", "ab", "abc",
]  # fmt: skip
SEPARATORS = [" ", " ", ", ", "\n", " - ", "! ", " 😀 "]


@dataclass
class World:
    """What the server holds, as the searcher (Alice) may see it, kept by the test."""

    alice: ParlourClient
    bob: ParlourClient
    channels: dict[str, bool]
    """Channel id → whether Alice may see it."""
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Current messages: id → message JSON (with the sender's client)."""
    senders: dict[str, ParlourClient] = field(default_factory=dict)


def expected_results(world: World, query: SearchQuery) -> list[tuple[str, list[list[int]]]]:
    """Brute force: every visible, current message whose folded words hold every phrase."""
    found = []
    for message in sorted(world.messages.values(), key=lambda m: -int(m["seq"])):
        if not world.channels[message["channel"]] or not query.phrases:
            continue
        spans = words(message["body"])
        texts = [w.text for w in spans]
        marked: set[int] = set()
        for phrase in query.phrases:
            n = len(phrase.words)
            starts = [
                i
                for i in range(len(texts) - n + 1)
                if texts[i : i + n - 1] == list(phrase.words[:-1])
                and (
                    texts[i + n - 1].startswith(phrase.words[-1])
                    if phrase.prefix
                    else texts[i + n - 1] == phrase.words[-1]
                )
            ]
            if not starts:
                break
            for i in starts:
                marked.update(range(i, i + n))
        else:
            found.append((message["id"], [[spans[i].start, spans[i].end] for i in sorted(marked)]))
    return found


def all_pages(client: ParlourClient, q: str, limit: int) -> list[tuple[str, list[list[int]]]]:
    """Every result, page by page."""
    got: list[tuple[str, list[list[int]]]] = []
    before: int | None = None
    for _ in range(1000):
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        page = search(client, q, **params)
        got += [(r["message"]["id"], r["highlights"]) for r in page["results"]]
        if not page["older"]:
            return got
        assert len(page["results"]) == limit
        before = page["results"][-1]["message"]["seq"]
    raise AssertionError("too many pages")


bodies_st = st.lists(
    st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(SEPARATORS)), min_size=1, max_size=8
).map(lambda parts: "".join(w + s for w, s in parts).strip() or "x")

operations_st = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(0, 3), st.booleans(), bodies_st),
        st.tuples(st.just("edit"), st.integers(0, 10_000), st.booleans(), bodies_st),
        st.tuples(st.just("delete"), st.integers(0, 10_000), st.booleans(), st.just("")),
    ),
    max_size=6,
)


@st.composite
def phrase_st(draw: st.DrawFn) -> tuple[str, Phrase]:
    """A phrase as a user types it, and what it means."""
    typed = draw(st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=3))
    folded = [w for t in typed for w in fold(t)]
    if not folded:
        return "", Phrase(())
    prefix = draw(st.booleans())
    text = " ".join(typed)
    if prefix:
        folded[-1] = folded[-1][: draw(st.integers(1, len(folded[-1])))]
        # Typed folded: a typed word's own beginning may fold otherwise, or be two words.
        text = " ".join(folded) + "*"
    quoted = len(folded) > 1 or draw(st.booleans())
    return (f'"{text}"' if quoted else text), Phrase(tuple(folded), prefix)


@st.composite
def query_st(draw: st.DrawFn) -> tuple[str, SearchQuery]:
    drawn = [(t, p) for t, p in draw(st.lists(phrase_st(), min_size=1, max_size=3)) if p.words]
    noise = draw(st.lists(st.sampled_from(["(", ")", "!", "-", "*", "?", "😀"]), max_size=2))
    pieces: list[tuple[str, Phrase | None]] = [*drawn, *((n, None) for n in noise)]
    pieces = draw(st.permutations(pieces))
    phrases = tuple(dict.fromkeys(p for _, p in pieces if p is not None))
    return " ".join(t for t, _ in pieces) or "!", SearchQuery(phrases)


@pytest.fixture
def world(server: ServerProcess) -> World:
    alice = server.client()
    r = alice.post("/api/setup", json={"name": OWNER_NAME, "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text
    bob = invite_user(server, alice, "Bob")
    alice_id = r.json()["id"]
    channels = {
        alice.create_channel("public")["id"]: True,
        private_channel(bob, "bobs", [])["id"]: False,
        private_channel(bob, "shared", [alice_id])["id"]: True,
        bob.create_channel("bobs public")["id"]: True,
    }
    return World(alice, bob, channels)


def apply(world: World, operations: list[tuple[str, int, bool, str]]) -> None:
    channel_ids = list(world.channels)
    for kind, n, as_bob, body in operations:
        if kind == "send":
            channel = channel_ids[n]
            client = world.bob if as_bob or not world.channels[channel] else world.alice
            message = client.send_message(channel, body)
            world.messages[message["id"]] = dict(message)
            world.senders[message["id"]] = client
        elif world.messages:
            message_id = sorted(world.messages)[n % len(world.messages)]
            client = world.senders[message_id]
            if kind == "edit":
                world.messages[message_id] = edit(client, message_id, body)
            else:
                assert client.delete(f"/api/messages/{message_id}").status_code == 202
                del world.messages[message_id]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=operations_st,
    queries=st.lists(query_st(), min_size=1, max_size=3),
    limit=st.integers(1, 6),
)
def test_search_finds_exactly_what_a_scan_of_the_visible_bodies_finds(
    world: World,
    operations: list[tuple[str, int, bool, str]],
    queries: list[tuple[str, SearchQuery]],
    limit: int,
) -> None:
    # The world persists from one example to the next: the server's state grows with it.
    apply(world, operations)
    for q, meaning in queries:
        assert parse_query(q) == meaning, q
        assert all_pages(world.alice, q, limit) == expected_results(world, meaning), q


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(q=st.one_of(st.text(max_size=40), st.text(alphabet="\"*()-:^ aéAÉ😀\\'", max_size=20)))
def test_hostile_text_finds_what_its_parse_means_and_never_fails(world: World, q: str) -> None:
    if not world.messages:
        apply(world, [("send", n, False, " ".join(VOCABULARY[n::4])) for n in range(4)])
    r = world.alice.get("/api/search", params={"q": q})
    if not q or q.isspace():
        assert_problem(r, 400)
        return
    assert r.status_code == 200, r.text
    got = [(x["message"]["id"], x["highlights"]) for x in r.json()["results"]]
    assert got == expected_results(world, parse_query(q))[:20]


# -- the same on both stores ---------------------------------------------------------------

BOTH_STORES_BODIES = [
    "Un café, s'il vous plaît",
    "CAFE NOIR, très NAÏVE",
    "the quick brown fox jumps",
    "a brown cow, quick!",
    "cats and dogs",
    "e-mail user@example.com or x.org/a/b",
    "x² is 1.5 — ½ ⅻ 🥰 😀",
    "Straße STRASSE Σίσυφος ΚΑΦΕ",
    "don't stop",
    "word " * 300 + "end",
    "w" * 700 + " long",
]
BOTH_STORES_QUERIES = [
    "cafe", "CAFÉ", "naive", "quick brown", '"brown fox"', '"fox brown"', "bro*", '"quick br*"',
    "cat", "cats", "dog*", "e-mail", "example", "user@example.com", "org", "x²", "x", "½",
    "🥰", "😀", "strasse", "straße", "καφε", "dont", "don't", '"word end"', '"word word"',
    "w" * 700, "w" * 600 + "*", "w" * 600, "((", '"', "NEAR AND OR NOT",
]  # fmt: skip


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_ADMIN_URL, reason="no PostgreSQL test cluster")
def test_both_stores_find_the_same_messages_with_the_same_highlights(tmp_path: Path) -> None:
    answers = []
    for name, url in [("sqlite", str(tmp_path / "s.db")), ("postgres", fresh_postgres_database())]:
        server = ServerProcess(tmp_path / f"{name}.db", database_url=url)
        try:
            server.start()
            client = server.client()
            client.set_up()
            channel = client.create_channel("general")["id"]
            for body in BOTH_STORES_BODIES:
                client.send_message(channel, body)
            answers.append(
                {
                    q: [
                        (r["message"]["body"], r["highlights"])
                        for r in search(client, q)["results"]
                    ]
                    for q in BOTH_STORES_QUERIES
                }
            )
        finally:
            server.close()
    sqlite, postgres = answers
    assert sqlite == postgres
    assert sqlite['"word end"'] == [(BOTH_STORES_BODIES[9], [[1495, 1499], [1500, 1503]])]
    assert [b for b, _ in sqlite["cafe"]] == BOTH_STORES_BODIES[1::-1]
    assert sqlite["w" * 600] == []
    assert [b for b, _ in sqlite["w" * 600 + "*"]] == [BOTH_STORES_BODIES[10]]
