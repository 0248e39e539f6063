"""Authorization audit: every endpoint, every kind of caller, the exact answer (issue 6).

The callers: no cookie, a garbage cookie, an expired session (on a server started with
`--session-expiry 4s`), another user, and the owner of what the request touches. Each cell
of the table says the status the docs require, following their order of checks
(docs/api/errors.md, "Which error wins": 413 → 405 → 503 → 401 → 415 → 400 → 404 → 403 →
409). A second table crosses the callers with
what else can be wrong with a request (too large, not JSON, malformed, an unknown id…).

Then: tokens are dead after logout and after a password change (the other sessions'),
and the session that changed the password lives; no token or password ever appears in a
response body or a log line; every response carries the security headers (and pages a
Content-Security-Policy); and the login throttle holds, in about the same time for an
unknown name as for a wrong password.
"""

from __future__ import annotations

import secrets
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from reliability_figures import record

from conftest import CHEAP_HASHES, ServerProcess
from parlour_client import (
    OWNER_NAME,
    UNKNOWN_CHANNEL,
    UNKNOWN_INVITE,
    UNKNOWN_MESSAGE,
    ParlourClient,
    assert_problem,
    fresh_name,
    invite_user,
    password_for,
)

PASSWORD = "owner's secret 7c1f"
BOB_PASSWORD = password_for("Bob")
NEW_PASSWORD = "a new secret 0d9e"
WRONG_PASSWORD = "a wrong guess 3b8a"
TOO_LARGE = b'{"x": "' + b"a" * 65_530 + b'"}'  # 65,539 bytes of valid JSON
CALLERS = ["no cookie", "garbage cookie", "expired session", "another user", "owner"]


@dataclass
class Seen:
    """Every answer any client of the audit received, and every secret handed out."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    responses: list[httpx.Response] = field(default_factory=list)
    secrets: set[str] = field(default_factory=lambda: {PASSWORD, BOB_PASSWORD, NEW_PASSWORD})
    statuses: Counter[int] = field(default_factory=Counter)

    def hook(self, response: httpx.Response) -> None:
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.read()  # (an event stream never ends: its body is not kept)
        with self.lock:
            self.responses.append(response)
            self.statuses[response.status_code] += 1
            for name, value in response.headers.multi_items():
                if name.lower() == "set-cookie" and value.startswith("identity="):
                    token = value.split(";", 1)[0].split("=", 1)[1].strip('"')
                    if token:
                        self.secrets.add(token)


@dataclass
class Site:
    """One server, its owner and another user; clients that report to `seen`."""

    server: ServerProcess
    seen: Seen
    sessions_expire: bool = False
    _owner: ParlourClient | None = None

    def client(self, token: str | None = None) -> ParlourClient:
        c = self.server.client(event_hooks={"response": [self.seen.hook]})
        if token is not None:
            c.cookies.set("identity", token)
        return c

    def login(self, name: str = OWNER_NAME, password: str = PASSWORD) -> str:
        """A fresh session's token."""
        c = self.client()
        c.log_in(name, password)
        return c.token

    def owner(self) -> ParlourClient:
        """A client of the owner, for preparing what a request touches."""
        if self.sessions_expire:
            return self.client(self.login())
        if self._owner is None:
            self._owner = self.client(self.login())
        return self._owner

    def forget_owner(self) -> None:
        """After a password change, which ends the owner's other sessions."""
        self._owner = None


def start_site(path: Any, seen: Seen, *args: str) -> tuple[Site, str]:
    server = ServerProcess(path / "parlour.db", list(args)).start()
    site = Site(server, seen, sessions_expire="--session-expiry" in args)
    c = site.client()
    c.set_up(OWNER_NAME, PASSWORD)
    return site, invite_user(server, c, "Bob").token


@dataclass
class Sites:
    main: Site
    bob_token: str
    expiring: Site
    seen: Seen
    _expired: str | None = None

    def expired_token(self, *, own: bool = False) -> str:
        """A token of a session left unused for longer than its expiry. Expired, it stays
        so (using it extends nothing), so cells share one, unless a call would end it."""
        if own or self._expired is None:
            token = self.expiring.login()
            time.sleep(4.6)  # unused for longer than --session-expiry 4s
            if own:
                return token
            self._expired = token
        return self._expired


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    seen = Seen()
    main, bob = start_site(tmp_path_factory.mktemp("audit"), seen)
    try:
        # No expiry sweep while the audit runs: an expired session stays in the database
        # (a swept one would only be an unknown token, which the garbage cookie covers).
        expiring, _ = start_site(
            tmp_path_factory.mktemp("expiring"),
            seen,
            "--session-expiry",
            "4s",  # long enough for a login and its next request on a loaded machine
            "--expiry-interval",
            "1d",
        )
        try:
            yield Sites(main, bob, expiring, seen)
        finally:
            expiring.server.close()
    finally:
        main.server.close()


# --- the tables ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None


# Each endpoint: how to make a request that the owner may make (given a client of the owner
# on the same server), and the status for (anonymous, another user, owner). "Anonymous" is
# no cookie, a garbage cookie and an expired session alike.
Prepare = Callable[[Site], Call]


def a_channel_with_a_message(site: Site) -> str:
    return site.owner().send_message(a_channel(site), "keep me")["channel"]


def a_channel(site: Site) -> str:
    return site.owner().create_channel(f"room {secrets.token_hex(4)}")["id"]


def an_owners_message(site: Site) -> str:
    return site.owner().send_message(a_channel(site), "the owner's message")["id"]


def an_invite(site: Site) -> str:
    return site.owner().invite()["id"]


ENDPOINTS: dict[str, tuple[Prepare, tuple[int, int, int]]] = {
    "setup": (
        lambda s: Call("POST", "/api/setup", {"name": fresh_name(), "password": PASSWORD}),
        (409, 409, 409),
    ),
    "login": (
        lambda s: Call("POST", "/api/auth/login", {"name": OWNER_NAME, "password": PASSWORD}),
        (200, 200, 200),
    ),
    "logout": (lambda s: Call("POST", "/api/auth/logout"), (204, 204, 204)),
    "change password": (
        # Another user offering the owner's password is refused: it is not theirs.
        lambda s: Call("POST", "/api/password", {"password": PASSWORD, "to": NEW_PASSWORD}),
        (401, 403, 200),
    ),
    "issue invite": (lambda s: Call("POST", "/api/invite", {}), (401, 200, 200)),
    "look at invite": (lambda s: Call("GET", f"/api/invite/{an_invite(s)}"), (200, 200, 200)),
    "accept invite": (
        lambda s: Call(
            "POST", f"/api/invite/{an_invite(s)}", {"name": fresh_name(), "password": PASSWORD}
        ),
        (200, 200, 200),
    ),
    "boot": (lambda s: Call("GET", "/api/boot"), (401, 200, 200)),
    "create channel": (
        lambda s: Call("POST", "/api/channels", {"name": fresh_name("room")}),
        (401, 202, 202),
    ),
    "delete empty channel": (
        # Channels belong to nobody: any user may delete an empty one.
        lambda s: Call("DELETE", f"/api/channels/{a_channel(s)}"),
        (401, 202, 202),
    ),
    "send message": (
        lambda s: Call("POST", f"/api/channels/{a_channel(s)}", {"body": "hello"}),
        (401, 202, 202),
    ),
    "delete message": (
        lambda s: Call("DELETE", f"/api/messages/{an_owners_message(s)}"),
        (401, 403, 202),
    ),
    "event stream": (lambda s: Call("GET", "/api/events?resume_point=0"), (401, 200, 200)),
    "openapi": (lambda s: Call("GET", "/api/openapi.json"), (200, 200, 200)),
    "page": (lambda s: Call("GET", "/"), (200, 200, 200)),
    "invite page": (lambda s: Call("GET", f"/invite/{UNKNOWN_INVITE}"), (200, 200, 200)),
    "channel page": (lambda s: Call("GET", f"/channels/{UNKNOWN_CHANNEL}"), (200, 200, 200)),
    "script": (lambda s: Call("GET", "/static/app.js"), (200, 200, 200)),
}

TEXT = {"Content-Type": "text/plain"}
JSON = {"Content-Type": "application/json"}

# What else can be wrong, for each kind of caller: (anonymous, another user, owner).
WRONG: dict[str, tuple[Prepare, tuple[int, int, int]]] = {
    "boot, body too large": (
        lambda s: Call("GET", "/api/boot", content=TOO_LARGE, headers=JSON),
        (413, 413, 413),
    ),
    "setup, body too large": (
        lambda s: Call("POST", "/api/setup", content=TOO_LARGE, headers=JSON),
        (413, 413, 413),
    ),
    "login, body too large": (
        lambda s: Call("POST", "/api/auth/login", content=TOO_LARGE, headers=JSON),
        (413, 413, 413),
    ),
    "send, body too large, unknown channel": (
        lambda s: Call("POST", f"/api/channels/{UNKNOWN_CHANNEL}", content=TOO_LARGE, headers=JSON),
        (413, 413, 413),
    ),
    "setup, not JSON": (
        lambda s: Call("POST", "/api/setup", content=b"name=x", headers=TEXT),
        (409, 409, 409),
    ),
    "create channel, not JSON": (
        lambda s: Call("POST", "/api/channels", content=b'{"name": "x"}', headers=TEXT),
        (401, 415, 415),
    ),
    "issue invite, not JSON": (
        lambda s: Call("POST", "/api/invite", content=b"{}", headers=TEXT),
        (401, 415, 415),
    ),
    "login, not JSON": (
        lambda s: Call("POST", "/api/auth/login", content=b"{}", headers=TEXT),
        (415, 415, 415),
    ),
    "logout, not JSON": (
        lambda s: Call("POST", "/api/auth/logout", content=b"{}", headers=TEXT),
        (415, 415, 415),
    ),
    "send, not JSON, unknown channel": (
        lambda s: Call(
            "POST", f"/api/channels/{UNKNOWN_CHANNEL}", content=b'{"body": "x"}', headers=TEXT
        ),
        (401, 415, 415),
    ),
    "create channel, malformed JSON": (
        lambda s: Call("POST", "/api/channels", content=b'{"name": "x"', headers=JSON),
        (401, 400, 400),
    ),
    "change password, malformed JSON holding the password": (
        lambda s: Call("POST", "/api/password", content=f'{{"password": "{PASSWORD}'.encode(),
                       headers=JSON),
        (401, 400, 400),
    ),
    "login, malformed JSON holding the password": (
        lambda s: Call("POST", "/api/auth/login", content=f'{{"name": "{OWNER_NAME}", '
                       f'"password": "{PASSWORD}"'.encode(), headers=JSON),
        (400, 400, 400),
    ),
    "send, empty body, unknown channel": (
        lambda s: Call("POST", f"/api/channels/{UNKNOWN_CHANNEL}", {"body": ""}),
        (401, 400, 400),
    ),
    "send, unknown channel": (
        lambda s: Call("POST", f"/api/channels/{UNKNOWN_CHANNEL}", {"body": "x"}),
        (401, 404, 404),
    ),
    "delete unknown channel": (
        lambda s: Call("DELETE", f"/api/channels/{UNKNOWN_CHANNEL}"),
        (401, 404, 404),
    ),
    "delete a channel holding messages": (
        lambda s: Call("DELETE", f"/api/channels/{a_channel_with_a_message(s)}"),
        # The owner made the site, so is its admin: an admin deletes a channel with its
        # messages (docs/api/members.md); anyone else hears 409.
        (401, 409, 202),
    ),
    "delete unknown message": (
        lambda s: Call("DELETE", f"/api/messages/{UNKNOWN_MESSAGE}"),
        (401, 404, 404),
    ),
    "delete malformed message id": (
        lambda s: Call("DELETE", "/api/messages/not-an-id"),
        (401, 404, 404),
    ),
    "look at unknown invite": (
        lambda s: Call("GET", f"/api/invite/{UNKNOWN_INVITE}"),
        (404, 404, 404),
    ),
    "accept unknown invite": (
        lambda s: Call("POST", f"/api/invite/{UNKNOWN_INVITE}",
                       {"name": fresh_name(), "password": PASSWORD}),
        (404, 404, 404),
    ),
    "accept invite, taken name": (
        lambda s: Call("POST", f"/api/invite/{an_invite(s)}",
                       {"name": "BOB", "password": PASSWORD}),
        (409, 409, 409),
    ),
    "accept invite, short password, unknown invite": (
        lambda s: Call("POST", f"/api/invite/{UNKNOWN_INVITE}",
                       {"name": fresh_name(), "password": "short"}),
        (400, 400, 400),
    ),
    "change password, wrong current": (
        lambda s: Call("POST", "/api/password", {"password": WRONG_PASSWORD, "to": NEW_PASSWORD}),
        (401, 403, 403),
    ),
    "change password, invalid new, wrong current": (
        lambda s: Call("POST", "/api/password", {"password": WRONG_PASSWORD, "to": "short"}),
        (401, 400, 400),
    ),
    "stream, bad resume point": (
        lambda s: Call("GET", "/api/events?resume_point=-1"),
        (401, 400, 400),
    ),
    "stream, resume point ahead": (
        lambda s: Call("GET", "/api/events?resume_point=999999999"),
        (401, 400, 400),
    ),
    "unknown API path": (lambda s: Call("GET", "/api/nothing"), (404, 404, 404)),
    "wrong method": (lambda s: Call("PUT", "/api/boot"), (405, 405, 405)),
}  # fmt: skip


def send(client: httpx.Client, call: Call) -> httpx.Response:
    if call.path.startswith("/api/events"):
        with client.stream("GET", call.path, headers={"Accept": "text/event-stream"}) as r:
            if r.status_code != 200:
                r.read()
            return r
    return client.request(
        call.method, call.path, json=call.json, content=call.content, headers=call.headers
    )


def caller(sites: Sites, who: str, what: str) -> tuple[Site, ParlourClient]:
    """The server this caller talks to, and a client with its cookie (or none)."""
    if who == "expired session":
        expired = sites.expired_token(own=what == "logout")
        return sites.expiring, sites.expiring.client(expired)
    site = sites.main
    # A call that ends the session it is made with gets a session of its own.
    ends_session = what in ("logout", "change password")
    token: str | None = None
    if who == "garbage cookie":
        token = secrets.token_urlsafe(32)
    elif who == "another user":
        token = site.login("Bob", BOB_PASSWORD) if ends_session else sites.bob_token
    elif who == "owner":
        token = site.login() if ends_session else site.owner().token
    return site, site.client(token)


def expected_for(who: str, expected: tuple[int, int, int]) -> int:
    anonymous, other, owner = expected
    return {"another user": other, "owner": owner}.get(who, anonymous)


def check_cell(sites: Sites, table: dict[str, Any], what: str, who: str) -> None:
    prepare, expected = table[what]
    site, client = caller(sites, who, what)
    call = prepare(site)
    r = send(client, call)
    want = expected_for(who, expected)
    assert r.status_code == want, f"{what} by {who}: {r.status_code}, not {want}: {r.text}"
    if r.status_code >= 400:
        assert_problem(r, want)
    if what == "change password" and r.status_code == 200:
        # Put it back (this session survives its own change), for the cells that follow.
        client.change_password(NEW_PASSWORD, PASSWORD)
        site.forget_owner()
    record("authorization audit", cells_checked=1)


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("what", list(ENDPOINTS))
def test_every_endpoint_answers_each_kind_of_caller_as_documented(
    sites: Sites, what: str, who: str
) -> None:
    check_cell(sites, ENDPOINTS, what, who)


@pytest.mark.parametrize("who", CALLERS)
@pytest.mark.parametrize("what", list(WRONG))
def test_what_else_is_wrong_is_answered_in_the_documented_order_for_each_kind_of_caller(
    sites: Sites, what: str, who: str
) -> None:
    check_cell(sites, WRONG, what, who)


# --- dead tokens ---------------------------------------------------------------------------

USER_CALLS = [
    Call("GET", "/api/boot"),
    Call("POST", "/api/invite", {}),
    Call("POST", "/api/channels", {"name": "never made"}),
    Call("POST", f"/api/channels/{UNKNOWN_CHANNEL}", {"body": "x"}),
    Call("DELETE", f"/api/channels/{UNKNOWN_CHANNEL}"),
    Call("DELETE", f"/api/messages/{UNKNOWN_MESSAGE}"),
    Call("POST", "/api/password", {"password": PASSWORD, "to": NEW_PASSWORD}),
    Call("GET", "/api/events?resume_point=0"),
]


def assert_dead(site: Site, token: str, why: str) -> None:
    for call in USER_CALLS:
        r = send(site.client(token), call)
        assert r.status_code == 401, f"{why}: {call.method} {call.path} answered {r.status_code}"
    record("authorization audit", dead_token_calls=len(USER_CALLS))


def test_a_token_is_dead_everywhere_after_logout_and_others_live_on(sites: Sites) -> None:
    site = sites.main
    gone, kept = site.login(), site.login()
    assert site.client(gone).post("/api/auth/logout").status_code == 204
    assert_dead(site, gone, "after logout")
    assert site.client(kept).get("/api/boot").status_code == 200


def test_a_password_change_kills_every_other_session_of_that_user_only(sites: Sites) -> None:
    site = sites.main
    others = [site.login() for _ in range(3)]
    changer = site.client(site.login())
    changer.change_password(PASSWORD, NEW_PASSWORD)
    try:
        for token in others:
            assert_dead(site, token, "after a password change")
        assert changer.get("/api/boot").status_code == 200
        assert site.client(sites.bob_token).get("/api/boot").status_code == 200
        old = site.client().post("/api/auth/login", json={"name": OWNER_NAME, "password": PASSWORD})
        assert old.status_code == 401
    finally:
        changer.change_password(NEW_PASSWORD, PASSWORD)
        site.forget_owner()


# --- headers, secrets, logs (over everything the tests above received) -----------------------


def test_every_response_carries_the_security_headers(sites: Sites) -> None:
    # Some answers of every kind, in case this test runs alone.
    c = sites.main.client(sites.main.login())
    for path in ("/", "/static/app.js", "/api/openapi.json", "/api/boot", "/api/nothing"):
        c.get(path)
    c.put("/api/boot")
    send(c, Call("GET", "/api/events?resume_point=0"))
    with sites.seen.lock:
        responses = list(sites.seen.responses)
    for r in responses:
        where = f"{r.request.method} {r.request.url.path} ({r.status_code})"
        assert r.headers.get("x-content-type-options") == "nosniff", where
        assert r.headers.get("referrer-policy"), where
        media_type = r.headers.get("content-type", "")
        if media_type.startswith("text/html"):
            csp = r.headers.get("content-security-policy", "")
            assert "default-src" in csp, where
            assert "unsafe-inline" not in csp.split("script-src", 1)[-1].split(";")[0], where
    record("authorization audit", responses_checked_for_headers=len(responses))


def test_no_token_or_password_appears_in_any_response_body_or_log_line(sites: Sites) -> None:
    # A wrong password and a logout, so that the log has had its chance to show them.
    site = sites.main
    wrong = site.client().post(
        "/api/auth/login", json={"name": OWNER_NAME, "password": WRONG_PASSWORD}
    )
    assert wrong.status_code == 401
    site.client(site.login()).post("/api/auth/logout")
    with sites.seen.lock:
        responses = list(sites.seen.responses)
        found = {*sites.seen.secrets, WRONG_PASSWORD}
    assert len(found) > 10, "the audit saw too few tokens to mean anything"
    for r in responses:
        where = f"{r.request.method} {r.request.url.path} ({r.status_code})"
        if not r.is_stream_consumed:
            continue  # an event stream: read by the tests that follow streams
        text = r.content.decode("utf-8", "replace")
        headers = [v for k, v in r.headers.multi_items() if k.lower() != "set-cookie"]
        for secret in found:
            assert secret not in text, f"{where} shows a secret in its body"
            assert not any(secret in v for v in headers), f"{where} shows a secret in a header"
    lines = 0
    for server in (sites.main.server, sites.expiring.server):
        for line in list(server.output):
            lines += 1
            for secret in found:
                assert secret not in line, f"a log line shows a secret: {line!r}"
    record(
        "authorization audit",
        secrets_searched=len(found),
        response_bodies_searched=len(responses),
        log_lines_searched=lines,
    )


# --- login throttling and timing -----------------------------------------------------------


def test_the_login_throttle_answers_429_for_known_and_unknown_names_even_to_the_right_password(
    start_server: Any,
) -> None:
    server: ServerProcess = start_server("--login-failures", "5")
    server.set_up(OWNER_NAME, PASSWORD)
    c = server.client()
    for name in (OWNER_NAME.upper(), "Nobody At All"):
        for _ in range(5):
            r = c.post("/api/auth/login", json={"name": name, "password": WRONG_PASSWORD})
            assert r.status_code == 401, r.text
        r = c.post("/api/auth/login", json={"name": name, "password": PASSWORD})
        assert_problem(r, 429)
        assert 1 <= int(r.headers["retry-after"]) <= 300
    r = c.post("/api/auth/login", json={"name": "Someone Else", "password": WRONG_PASSWORD})
    assert r.status_code == 401, "throttling one name throttled another"
    record("authorization audit", throttled_names=2)


TIMING_ATTEMPTS = 15


def test_an_unknown_name_takes_about_as_long_as_a_wrong_password(start_server: Any) -> None:
    # The real hashing cost: that is what an unknown name must take as long as.
    server: ServerProcess = start_server("--login-failures", "1000", env={CHEAP_HASHES: "0"})
    server.set_up(OWNER_NAME, PASSWORD)
    c = server.client()
    unknown: list[float] = []
    wrong: list[float] = []
    for i in range(TIMING_ATTEMPTS):  # interleaved, so that load affects both alike
        for name, times in ((f"nobody {i}", unknown), (OWNER_NAME, wrong)):
            began = time.perf_counter()
            r = c.post("/api/auth/login", json={"name": name, "password": WRONG_PASSWORD})
            times.append(time.perf_counter() - began)
            assert r.status_code == 401
    ratio = statistics.median(unknown) / statistics.median(wrong)
    # Skipping the argon2 check for an unknown name would make it many times faster.
    assert 0.5 <= ratio <= 2.0, (unknown, wrong)
    record(
        "login timing",
        attempts_each=TIMING_ATTEMPTS,
        median_ms_unknown_name=round(statistics.median(unknown) * 1000, 1),
        median_ms_wrong_password=round(statistics.median(wrong) * 1000, 1),
        ratio=round(ratio, 2),
    )
