"""HTTP conventions: body limits, content types, JSON errors, ids, problem documents, order,
and which methods each path answers (HEAD, 405 with Allow; never a 5xx)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import ServerProcess, Site
from parlour.http.pages import STATIC
from parlour.http.routes import methods_by_path
from parlour_client import (
    OWNER_NAME,
    OWNER_PASSWORD,
    UNKNOWN_CHANNEL,
    UNKNOWN_INVITE,
    UNKNOWN_MESSAGE,
    UNKNOWN_RESET,
    UNKNOWN_USER,
    ParlourClient,
    assert_problem,
    invite_user,
)

MAX_BODY_BYTES = 65_536
JSON = {"content-type": "application/json"}
TEXT = {"content-type": "text/plain"}


def padded(payload: dict[str, Any], size: int) -> bytes:
    """`payload` as JSON followed by white space, exactly `size` bytes long (still valid JSON)."""
    encoded = json.dumps(payload).encode()
    assert len(encoded) <= size
    return encoded + b" " * (size - len(encoded))


@pytest.fixture
def channel(shared_owner: ParlourClient) -> str:
    """A channel on the module's shared server, new for each test."""
    owner = shared_owner
    return owner.create_channel(f"room {len(owner.boot()['channels'])}")["id"]


# --- body size ---------------------------------------------------------------------------


def test_a_body_of_65536_bytes_is_accepted(shared_site: Site, channel: str) -> None:
    owner = shared_site.owner
    content = padded({"body": "exactly at the limit"}, MAX_BODY_BYTES)
    r = owner.post(f"/api/channels/{channel}", content=content, headers=JSON)
    assert r.status_code == 202, r.text
    assert r.json()["body"] == "exactly at the limit"


def test_a_body_of_65537_bytes_answers_413(shared_site: Site, channel: str) -> None:
    owner = shared_site.owner
    content = padded({"body": "one byte over"}, MAX_BODY_BYTES + 1)
    assert_problem(owner.post(f"/api/channels/{channel}", content=content, headers=JSON), 413)
    messages = owner.boot()["messages"]
    assert all(m["body"] != "one byte over" for m in messages)


def test_a_padded_unknown_field_counts_towards_the_limit(shared_site: Site, channel: str) -> None:
    owner = shared_site.owner
    base = len(json.dumps({"body": "padded", "padding": ""}).encode())
    at_limit = json.dumps({"body": "padded", "padding": "x" * (MAX_BODY_BYTES - base)})
    over = json.dumps({"body": "padded", "padding": "x" * (MAX_BODY_BYTES - base + 1)})
    assert len(at_limit.encode()) == MAX_BODY_BYTES
    r = owner.post(f"/api/channels/{channel}", content=at_limit, headers=JSON)
    assert r.status_code == 202, r.text
    assert_problem(owner.post(f"/api/channels/{channel}", content=over, headers=JSON), 413)


def chunks(content: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start : start + size]


def test_a_chunked_body_without_content_length_is_limited_too(
    shared_site: Site, channel: str
) -> None:
    owner = shared_site.owner
    over = padded({"body": "chunked over"}, MAX_BODY_BYTES + 1)
    r = owner.post(f"/api/channels/{channel}", content=chunks(over), headers=JSON)
    assert "content-length" not in r.request.headers
    assert_problem(r, 413)
    at_limit = padded({"body": "chunked at the limit"}, MAX_BODY_BYTES)
    r = owner.post(f"/api/channels/{channel}", content=chunks(at_limit), headers=JSON)
    assert r.status_code == 202, r.text


# --- content type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "text/json",
        None,
    ],
    ids=["text", "form", "multipart", "jsonx", "text-json", "missing"],
)
def test_a_body_that_is_not_declared_json_answers_415(
    shared_site: Site, content_type: str | None
) -> None:
    owner = shared_site.owner
    headers = {"content-type": content_type} if content_type else {}
    r = owner.post("/api/channels", content=b'{"name": "not json"}', headers=headers)
    assert_problem(r, 415)
    assert "not json" not in [c["name"] for c in owner.boot()["channels"]]


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8"],
)
def test_json_content_type_with_parameters_or_other_case_is_accepted(
    shared_site: Site, channel: str, content_type: str
) -> None:
    owner = shared_site.owner
    content = json.dumps({"body": content_type}).encode()
    r = owner.post(
        f"/api/channels/{channel}", content=content, headers={"content-type": content_type}
    )
    assert r.status_code == 202, r.text


def test_a_body_with_the_wrong_content_type_answers_415_where_no_fields_are_needed(
    shared_site: Site,
) -> None:
    owner = shared_site.owner
    assert_problem(owner.post("/api/invite", content=b"hello", headers=TEXT), 415)


# --- JSON and fields ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": ',
        b"{name: 'general'}",
        b'{"name": "general"} trailing',
        b"[]",
        b'"general"',
        b"null",
        b"42",
        b'{"name": "\xff\xfe"}',
        b"",
        b'{"name": "x\\ud800y"}',
        b'{"name": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
    ],
    ids=[
        "truncated",
        "not-json",
        "trailing-garbage",
        "array",
        "string",
        "null",
        "number",
        "invalid-utf8",
        "empty",
        "lone-surrogate",
        "deeply-nested",
    ],
)
def test_a_malformed_json_body_answers_400(shared_site: Site, content: bytes) -> None:
    owner = shared_site.owner
    assert_problem(owner.post("/api/channels", content=content, headers=JSON), 400)


def test_a_post_that_needs_fields_but_has_no_body_answers_400(
    shared_site: Site, channel: str
) -> None:
    owner = shared_site.owner
    assert_problem(owner.post("/api/channels"), 400)
    assert_problem(owner.post(f"/api/channels/{channel}"), 400)


def test_unknown_extra_fields_are_ignored(shared_site: Site, channel: str) -> None:
    owner = shared_site.owner
    r = owner.post(
        "/api/channels",
        json={"name": "extra fields", "id": "C" + "f" * 24, "created_at": "1999-01-01T00:00:00Z"},
    )
    assert r.status_code == 202, r.text
    assert r.json()["id"] != "C" + "f" * 24
    assert not r.json()["created_at"].startswith("1999")
    me = owner.boot()["user"]
    r = owner.post(
        f"/api/channels/{channel}", json={"body": "hi", "sender": "U" + "f" * 24, "x": [1, {}]}
    )
    assert r.status_code == 202, r.text
    assert r.json()["sender"] == me["id"]


def test_a_post_that_needs_no_fields_may_have_no_body(
    server: ServerProcess, owner: ParlourClient
) -> None:
    r = owner.post("/api/invite")
    assert r.status_code == 200, r.text
    assert r.request.headers.get("content-type") is None
    assert owner.post("/api/auth/logout").status_code == 204


def test_a_post_that_needs_no_fields_accepts_an_empty_object_with_extra_fields(
    shared_site: Site,
) -> None:
    owner = shared_site.owner
    assert owner.post("/api/invite", json={}).status_code == 200
    assert owner.post("/api/invite", json={"note": "for Bob"}).status_code == 200


# --- ids, routes, problem documents ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/channels/C%00aaaaaaaaaaaaaaaaaaaaaaaa"),
        ("DELETE", "/api/channels/C" + "a" * 1000),
        ("DELETE", "/api/channels/%20"),
        ("POST", "/api/channels/C%2Fxxxxxxxxxxxxxxxxxxxxxxxx"),
        ("DELETE", "/api/messages/M%E2%82%ACxxxxxxxxxxxxxxxxxxxxxxx"),
        ("DELETE", "/api/messages/' OR 1=1 --"),
        ("GET", "/api/invite/I%27%3B%20DROP%20TABLE%20users%3B"),
    ],
    ids=["nul", "very-long", "space", "slash", "euro", "sql-message", "sql-invite"],
)
def test_malformed_ids_in_paths_answer_404(shared_site: Site, method: str, path: str) -> None:
    owner = shared_site.owner
    body = {"body": "hi"} if method == "POST" else None
    r = owner.request(method, path, json=body)
    assert_problem(r, 404)


def test_an_unknown_api_route_answers_404_as_a_problem(
    shared_site: Site,
) -> None:
    owner = shared_site.owner
    assert_problem(owner.get("/api/no-such-thing"), 404)


def test_problem_status_matches_the_response_status_for_each_kind_of_error(
    server: ServerProcess, owner: ParlourClient
) -> None:
    bob = invite_user(server, owner, "Bob")
    channel = owner.create_channel()["id"]
    message = owner.send_message(channel, "hi")
    cases: list[tuple[int, httpx.Response]] = [
        (400, owner.post("/api/channels", json={"name": ""})),
        (401, server.client().get("/api/boot")),
        (403, bob.delete(f"/api/messages/{message['id']}")),
        (404, owner.delete(f"/api/messages/{UNKNOWN_MESSAGE}")),
        (409, owner.post("/api/channels", json={"name": "GENERAL"})),
        (413, owner.post("/api/channels", content=padded({}, MAX_BODY_BYTES + 1), headers=JSON)),
        (415, owner.post("/api/channels", content=b"{}", headers=TEXT)),
    ]
    for status, response in cases:
        assert_problem(response, status)


def test_every_json_answer_errors_included_carries_no_store(
    shared_site: Site, unset_server: ServerProcess
) -> None:
    """Regression (issue 10): problem documents had no Cache-Control, so a cache could keep
    one (a 401, say) and serve it to the next request."""
    server, owner = shared_site.server, shared_site.owner
    anonymous = server.client()
    answers = [
        owner.get("/api/boot"),
        owner.post("/api/invite"),
        anonymous.get("/api/openapi.json"),
        owner.post("/api/channels", json={"name": ""}),
        anonymous.get("/api/boot"),
        owner.delete(f"/api/messages/{UNKNOWN_MESSAGE}"),
        owner.put("/api/boot"),
        owner.post("/api/channels", json={"name": OWNER_NAME.join("[]")}),
        owner.post("/api/channels", json={"name": OWNER_NAME.join("[]")}),
        owner.post("/api/channels", content=padded({}, MAX_BODY_BYTES + 1), headers=JSON),
        owner.post("/api/channels", content=b"{}", headers=TEXT),
        owner.get("/api/no-such-thing"),
        owner.get("/static/no-such-file.js"),
        unset_server.client().get("/api/boot"),
    ]
    statuses = set()
    for r in answers:
        statuses.add(r.status_code)
        media_type = r.headers["content-type"].split(";")[0]
        assert media_type in {"application/json", "application/problem+json"}, r.headers
        assert r.headers.get("cache-control") == "no-store", (r.request.url, r.status_code)
    assert statuses >= {200, 400, 401, 404, 405, 409, 413, 415, 503}


# --- methods: HEAD wherever GET, 405 with Allow, never a 5xx -------------------------------

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
# A method HTTP does not define: 405 or 501 (docs/api/errors.md), a problem either way.
UNKNOWN_METHOD = "FROBNICATE"
A_FILE = sorted(f.name for f in STATIC.iterdir() if f.is_file() and f.suffix == ".js")[0]
SAMPLES = {
    "invite_id": UNKNOWN_INVITE,
    "channel_id": UNKNOWN_CHANNEL,
    "message_id": UNKNOWN_MESSAGE,
    "user_id": UNKNOWN_USER,
    "reset_id": UNKNOWN_RESET,
    "emoji": "%F0%9F%91%8D",  # 👍, percent-encoded as a client sends it
    "file": A_FILE,
}
# Paths the route table does not serve: every method gets 404 there.
NOWHERE = ["/static/no-such-file.js", "/api/no-such-thing", "/no/such/page"]
# Answers that differ between two requests in a row, whatever the method.
VARYING_HEADERS = {"date"}


def every_path() -> list[tuple[str, list[str]]]:
    """(a concrete path, the methods it serves) for every path of the route table, plus
    paths it does not have (serving nothing)."""
    paths = [
        (re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES[m.group(1)], template), methods)
        for template, methods in methods_by_path().items()
    ]
    return paths + [(path, []) for path in NOWHERE]


def check_method(client: httpx.Client, method: str, path: str, served: list[str]) -> None:
    r = client.request(method, path)
    where = f"{method} {path}: {r.status_code} {r.text[:200]}"
    if method == UNKNOWN_METHOD:
        assert r.status_code in {405, 501}, where
        assert_problem(r, r.status_code)
        return
    assert r.status_code < 500, where
    if method == "HEAD":
        assert r.content == b"", where
        if "GET" in served:
            got = client.get(path)
            assert r.status_code == got.status_code, where
            varying = VARYING_HEADERS | ({"set-cookie"} if "set-cookie" in got.headers else set())
            head = {k: v for k, v in r.headers.items() if k not in varying}
            assert head == {k: v for k, v in got.headers.items() if k not in varying}, where
            return
    if not served:
        assert r.status_code == 404, where
        if method != "HEAD":
            assert_problem(r, 404)
    elif method in served:
        assert r.status_code != 405, where
    else:
        assert r.status_code == 405, where
        assert r.headers["allow"] == ", ".join(served), where
        if method != "HEAD":
            assert_problem(r, 405)


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_every_path_answers_every_method_and_never_a_5xx(shared_site: Site, who: str) -> None:
    """Regression (issue 10): HEAD on a path whose GET shared a route with another method
    (GET and POST /api/invite/{id}) answered 500."""
    server = shared_site.server
    client = server.client()
    if who == "member":
        client.log_in()
    cases = [(m, path, served) for path, served in every_path() for m in [*METHODS, UNKNOWN_METHOD]]
    # Logging out ends the member's session: last.
    cases.sort(key=lambda case: (case[0], case[1]) == ("POST", "/api/auth/logout"))
    for method, path, served in cases:
        check_method(client, method, path, served)


def test_the_route_table_lists_every_path_with_head_wherever_get() -> None:
    served = methods_by_path()
    assert served["/api/invite/{invite_id}"] == ["DELETE", "GET", "HEAD", "POST"]
    assert served["/api/invites"] == ["GET", "HEAD"]
    assert served["/api/users/{user_id}"] == ["POST"]
    assert served["/api/reset/{reset_id}"] == ["GET", "HEAD", "POST"]
    assert served["/api/channels/{channel_id}"] == ["DELETE", "POST"]
    assert served["/api/events"] == ["GET", "HEAD"]
    assert served["/"] == ["GET", "HEAD"]
    assert served["/static/{file}"] == ["GET", "HEAD"]
    for methods in served.values():
        assert ("GET" in methods) == ("HEAD" in methods), methods


def test_head_on_an_invitation_answers_like_get(
    shared_site: Site,
) -> None:
    """Regression (issue 10): KeyError 'HEAD' in the route dispatch, answered 500."""
    server, owner = shared_site.server, shared_site.owner
    invite = owner.invite()
    anonymous = server.client()
    for invite_id, status in ((invite["id"], 200), (UNKNOWN_INVITE, 404)):
        head = anonymous.head(f"/api/invite/{invite_id}")
        get = anonymous.get(f"/api/invite/{invite_id}")
        assert head.status_code == get.status_code == status
        assert head.headers["content-length"] == get.headers["content-length"]
        assert head.content == b""


def test_a_method_on_a_static_path_gets_404_without_a_file_and_405_with_one(
    shared_site: Site,
) -> None:
    """Regression (issue 10): POST /static/<missing> answered 405, as if the file existed."""
    server = shared_site.server
    anonymous = server.client()
    assert_problem(anonymous.post("/static/no-such-file.js"), 404)
    r = anonymous.post(f"/static/{A_FILE}")
    assert_problem(r, 405)
    assert r.headers["allow"] == "GET, HEAD"
    assert anonymous.get(f"/static/{A_FILE}").status_code == 200


# --- input that once answered 500 (issue 10) ------------------------------------------------

BEYOND_THE_STORE = ["9223372036854775808", "9999999999999999999", "18446744073709551616"]


@pytest.mark.parametrize(
    "value", [*BEYOND_THE_STORE, "9" * 5000], ids=["2^63", "10^19-1", "2^64", "5000-digits"]
)
def test_a_resume_point_beyond_the_stores_integers_answers_400(
    shared_site: Site, value: str
) -> None:
    """Regression (issue 10): between 2^63 and 10^19-1 it overflowed SQLite's integers: 500."""
    owner = shared_site.owner
    body = assert_problem(owner.get("/api/events", params={"resume_point": value}), 400)
    assert "2^63" in body["detail"]
    body = assert_problem(owner.get("/api/events", headers={"Last-Event-ID": value}), 400)
    assert "Last-Event-ID" in body["detail"]


def test_the_largest_stored_integer_as_a_resume_point_is_ahead_of_the_newest_event(
    shared_site: Site,
) -> None:
    owner = shared_site.owner
    body = assert_problem(owner.get("/api/events", params={"resume_point": 2**63 - 1}), 400)
    assert "ahead of the newest event" in body["detail"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [1_000, 30_000])
def test_json_nested_deeply_in_an_ignored_field_answers_400_even_before_login(
    shared_site: Site, unset_server: ServerProcess, depth: int
) -> None:
    """Regression (issue 10): msgspec's RecursionError, skipping the unknown field, was a 500."""
    server = shared_site.server
    credentials = (
        f'{{"name": "{OWNER_NAME}", "password": "{OWNER_PASSWORD}", "x": {nested(depth)}}}'
    )
    r = server.client().post("/api/auth/login", content=credentials, headers=JSON)
    assert "nested too deeply" in assert_problem(r, 400)["detail"]
    r = unset_server.client().post("/api/setup", content=credentials, headers=JSON)
    assert_problem(r, 400)
    assert_problem(unset_server.client().get("/api/boot"), 503)  # still not set up


@pytest.mark.parametrize(
    "escape", ["\\ud800", "\\udbff", "\\udc00", "\\ud800\\ud800", "\\udc00\\ud800"]
)
def test_a_lone_surrogate_escape_is_named_in_the_400(shared_site: Site, escape: str) -> None:
    """Regression (issue 10): a lone high surrogate got "Input data was truncated"."""
    owner = shared_site.owner
    content = f'{{"name": "room {escape}"}}'.encode()
    detail = assert_problem(owner.post("/api/channels", content=content, headers=JSON), 400)[
        "detail"
    ]
    assert "surrogate" in detail
    assert "truncated" not in detail
    assert escape[:6] in detail


def test_a_surrogate_pair_escape_is_one_character(
    shared_site: Site,
) -> None:
    owner = shared_site.owner
    content = b'{"name": "climbing \\ud83e\\uddd7"}'
    r = owner.post("/api/channels", content=content, headers=JSON)
    assert r.status_code == 202, r.text
    assert r.json()["name"] == "climbing \U0001f9d7"


# --- which error wins --------------------------------------------------------------------


def test_413_comes_before_503(unset_server: ServerProcess) -> None:
    c = unset_server.client()
    over = padded({"name": "general"}, MAX_BODY_BYTES + 1)
    assert_problem(c.post("/api/channels", content=over, headers=JSON), 413)
    assert_problem(c.post("/api/setup", content=over, headers=JSON), 413)


def test_413_comes_before_405(shared_site: Site) -> None:
    server = shared_site.server
    over = padded({}, MAX_BODY_BYTES + 1)
    assert_problem(server.client().put("/api/boot", content=over, headers=JSON), 413)
    assert_problem(server.client().put("/", content=over, headers=JSON), 413)
    assert_problem(server.client().put(f"/static/{A_FILE}", content=over, headers=JSON), 413)


def test_405_comes_before_503(unset_server: ServerProcess) -> None:
    c = unset_server.client()
    assert_problem(c.put("/api/boot"), 405)
    assert_problem(c.request("DELETE", "/api/invite", content=b"{oops", headers=TEXT), 405)


def test_405_comes_before_401_415_and_400(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    assert_problem(server.client().patch("/api/boot"), 405)
    assert_problem(server.client().put("/api/channels", content=b"{oops", headers=TEXT), 405)
    assert_problem(owner.put(f"/api/channels/{UNKNOWN_CHANNEL}", json={"body": ""}), 405)


def test_503_comes_before_401_415_400_and_404(unset_server: ServerProcess) -> None:
    c = unset_server.client()
    assert_problem(c.post("/api/channels", content=b'{"name": "x"}', headers=TEXT), 503)
    assert_problem(c.post("/api/channels", content=b"{oops", headers=JSON), 503)
    assert_problem(c.delete(f"/api/messages/{UNKNOWN_MESSAGE}"), 503)
    assert_problem(c.get("/api/invite/nonsense"), 503)


def test_413_comes_before_401_and_415(shared_site: Site) -> None:
    server = shared_site.server
    over = padded({"name": "general"}, MAX_BODY_BYTES + 1)
    anonymous = server.client()
    assert_problem(anonymous.post("/api/channels", content=over, headers=JSON), 413)
    assert_problem(anonymous.post("/api/channels", content=over, headers=TEXT), 413)


def test_413_comes_before_409_for_setup_after_completion(
    shared_site: Site,
) -> None:
    server = shared_site.server
    over = padded({"name": "general", "password": "password 1234"}, MAX_BODY_BYTES + 1)
    assert_problem(server.client().post("/api/setup", content=over, headers=JSON), 413)


def test_401_comes_before_415_400_and_404(shared_site: Site) -> None:
    server = shared_site.server
    anonymous = server.client()
    assert_problem(anonymous.post("/api/channels", content=b'{"name": "x"}', headers=TEXT), 401)
    assert_problem(anonymous.post("/api/channels", content=b"{oops", headers=JSON), 401)
    assert_problem(anonymous.post("/api/channels", json={"name": ""}), 401)
    assert_problem(anonymous.post("/api/channels/nonsense", json={"body": "hi"}), 401)
    assert_problem(anonymous.delete("/api/messages/nonsense"), 401)
    assert_problem(anonymous.delete(f"/api/channels/{UNKNOWN_CHANNEL}"), 401)


def test_415_comes_before_400_and_404(shared_site: Site) -> None:
    owner = shared_site.owner
    assert_problem(owner.post("/api/channels", content=b"{oops", headers=TEXT), 415)
    r = owner.post(f"/api/channels/{UNKNOWN_CHANNEL}", content=b'{"body": "hi"}', headers=TEXT)
    assert_problem(r, 415)
    r = owner.post(f"/api/invite/{UNKNOWN_INVITE}", content=b"{oops", headers=TEXT)
    assert_problem(r, 415)


def test_400_comes_before_404(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    assert_problem(owner.post(f"/api/channels/{UNKNOWN_CHANNEL}", json={"body": ""}), 400)
    assert_problem(owner.post(f"/api/channels/{UNKNOWN_CHANNEL}", json={}), 400)
    r = server.client().post(f"/api/invite/{UNKNOWN_INVITE}", json={"name": "", "password": "x"})
    assert_problem(r, 400)


def test_400_comes_before_409(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    invite = owner.invite()
    taken_name_short_password = {"name": OWNER_NAME, "password": "short"}
    r = server.client().post(f"/api/invite/{invite['id']}", json=taken_name_short_password)
    assert_problem(r, 400)


def test_404_comes_before_409(shared_site: Site) -> None:
    server = shared_site.server
    body = {"name": OWNER_NAME, "password": "password 1234"}
    assert_problem(server.client().post(f"/api/invite/{UNKNOWN_INVITE}", json=body), 404)


def test_400_comes_before_403(shared_site: Site) -> None:
    owner = shared_site.owner
    r = owner.post("/api/password", json={"password": "not the password", "to": "short"})
    assert_problem(r, 400)


# --- the machine-readable contract -------------------------------------------------------

ENDPOINTS = {
    ("post", "/api/setup"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("post", "/api/password"),
    ("post", "/api/invite"),
    ("get", "/api/invite/{}"),
    ("post", "/api/invite/{}"),
    ("get", "/api/boot"),
    ("post", "/api/channels"),
    ("delete", "/api/channels/{}"),
    ("post", "/api/channels/{}"),
    ("delete", "/api/messages/{}"),
    ("get", "/api/events"),
    # issue 11
    ("get", "/api/invites"),
    ("delete", "/api/invite/{}"),
    ("post", "/api/users/{}"),
    ("post", "/api/users/{}/reset"),
    ("get", "/api/reset/{}"),
    ("post", "/api/reset/{}"),
}


def test_openapi_document_is_json_describing_every_endpoint(
    shared_site: Site,
) -> None:
    server = shared_site.server
    r = server.client().get("/api/openapi.json")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0].strip() == "application/json"
    document = json.loads(r.content)
    assert str(document["openapi"]).startswith("3.")
    assert isinstance(document["paths"], dict)
    described = {
        (method.lower(), re.sub(r"\{[^}]*\}", "{}", path))
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert described >= ENDPOINTS, ENDPOINTS - described
