"""Setup: a new server answers 503 until its first user is created, then 409 to setup."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import ServerProcess, Site
from parlour_client import (
    OWNER_NAME,
    OWNER_PASSWORD,
    UNKNOWN_CHANNEL,
    UNKNOWN_INVITE,
    UNKNOWN_MESSAGE,
    USER_ID,
    assert_problem,
    at_once,
)

# Every endpoint that must answer 503 before setup, each with a body it would otherwise accept.
ENDPOINTS_BEHIND_SETUP: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/auth/login", {"name": OWNER_NAME, "password": OWNER_PASSWORD}),
    ("POST", "/api/auth/logout", None),
    ("POST", "/api/password", {"password": OWNER_PASSWORD, "to": "a new password"}),
    ("POST", "/api/invite", {}),
    ("GET", f"/api/invite/{UNKNOWN_INVITE}", None),
    ("POST", f"/api/invite/{UNKNOWN_INVITE}", {"name": "Bob", "password": "password Bob"}),
    ("GET", "/api/boot", None),
    ("POST", "/api/channels", {"name": "general"}),
    ("DELETE", f"/api/channels/{UNKNOWN_CHANNEL}", None),
    ("POST", f"/api/channels/{UNKNOWN_CHANNEL}", {"body": "hello"}),
    ("DELETE", f"/api/messages/{UNKNOWN_MESSAGE}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS_BEHIND_SETUP)
def test_every_api_endpoint_answers_503_saying_setup_is_required_before_setup(
    unset_server: ServerProcess, method: str, path: str, body: dict[str, Any] | None
) -> None:
    c = unset_server.client()
    r = c.request(method, path, json=body)
    problem = assert_problem(r, 503)
    assert "setup" in problem["detail"].lower()


def test_event_stream_answers_503_before_setup(unset_server: ServerProcess) -> None:
    c = unset_server.client()
    with c.stream("GET", "/api/events", params={"resume_point": "0"}) as r:
        r.read()
        problem = assert_problem(r, 503)
    assert "setup" in problem["detail"].lower()


def test_openapi_document_is_served_before_setup(unset_server: ServerProcess) -> None:
    r = unset_server.client().get("/api/openapi.json")
    assert r.status_code == 200
    assert "paths" in r.json()


def test_web_client_is_served_before_setup(unset_server: ServerProcess) -> None:
    r = unset_server.client().get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")


def test_setup_creates_the_first_user_an_admin_and_answers_the_user(
    server: ServerProcess,
) -> None:
    c = server.client()
    r = c.post("/api/setup", json={"name": "Ada Lovelace", "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    user = r.json()
    assert set(user) == {"id", "name", "role", "active"}
    assert USER_ID.match(user["id"]), user["id"]
    assert user["name"] == "Ada Lovelace"
    assert (user["role"], user["active"]) == ("admin", True)  # setup's user is the admin


def test_setup_logs_the_first_user_in(server: ServerProcess) -> None:
    c = server.client()
    r = c.post("/api/setup", json={"name": OWNER_NAME, "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text
    assert c.token
    boot = c.get("/api/boot")
    assert boot.status_code == 200, boot.text
    assert boot.json()["user"] == r.json()
    assert boot.json()["users"] == [r.json()]


def test_setup_user_created_event_has_sequence_one(server: ServerProcess) -> None:
    assert server.set_up().resume_point() == 1


def test_first_user_can_log_in_with_the_setup_password(server: ServerProcess) -> None:
    server.set_up()
    assert server.client().log_in(OWNER_NAME, OWNER_PASSWORD)["name"] == OWNER_NAME


def test_setup_stores_the_name_nfc_normalised(server: ServerProcess) -> None:
    r = server.client().post("/api/setup", json={"name": "Jose\u0301", "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Jos\u00e9"


def test_endpoints_stop_answering_503_once_setup_is_completed(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    assert owner.get("/api/boot").status_code == 200
    assert_problem(server.client().get("/api/boot"), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Bob", "password": "another password"},
        {"name": OWNER_NAME, "password": OWNER_PASSWORD},
        {},
        {"name": "", "password": "x"},
        {"name": 5, "password": None},
    ],
    ids=["new-user", "same-user", "empty", "invalid", "wrong-types"],
)
def test_setup_answers_409_once_completed_whatever_the_body(
    shared_site: Site, body: dict[str, Any]
) -> None:
    owner = shared_site.owner
    assert_problem(owner.post("/api/setup", json=body), 409)


@pytest.mark.parametrize(
    "content", [b"", b"{not json", b"[]"], ids=["no-body", "malformed", "not-object"]
)
def test_setup_answers_409_once_completed_even_to_a_malformed_body(
    shared_site: Site, content: bytes
) -> None:
    server = shared_site.server
    headers = {"content-type": "application/json"} if content else {}
    r = server.client().post("/api/setup", content=content, headers=headers)
    assert_problem(r, 409)


def test_second_setup_does_not_create_a_user(shared_site: Site) -> None:
    server, owner = shared_site.server, shared_site.owner
    r = server.client().post("/api/setup", json={"name": "Mallory", "password": "password 1234"})
    assert_problem(r, 409)
    assert "Mallory" not in [u["name"] for u in owner.boot()["users"]]
    login = server.client().post(
        "/api/auth/login", json={"name": "Mallory", "password": "password 1234"}
    )
    assert_problem(login, 401)


@pytest.mark.parametrize(
    "body",
    [
        {"password": OWNER_PASSWORD},
        {"name": OWNER_NAME},
        {"name": 42, "password": OWNER_PASSWORD},
        {"name": OWNER_NAME, "password": 12345678},
        {"name": None, "password": OWNER_PASSWORD},
        {"name": "", "password": OWNER_PASSWORD},
        {"name": " Alice", "password": OWNER_PASSWORD},
        {"name": "Alice\n", "password": OWNER_PASSWORD},
        {"name": "a" * 65, "password": OWNER_PASSWORD},
        {"name": "Al\u0000ice", "password": OWNER_PASSWORD},
        {"name": "Al\u200bice", "password": OWNER_PASSWORD},
        {"name": OWNER_NAME, "password": "1234567"},
        {"name": OWNER_NAME, "password": "p" * 1025},
    ],
    ids=[
        "missing-name",
        "missing-password",
        "name-number",
        "password-number",
        "name-null",
        "empty-name",
        "leading-space",
        "trailing-newline",
        "name-65",
        "name-nul",
        "name-zero-width-space",
        "password-7",
        "password-1025",
    ],
)
def test_invalid_setup_answers_400(unset_server: ServerProcess, body: dict[str, Any]) -> None:
    assert_problem(unset_server.client().post("/api/setup", json=body), 400)


def test_setup_remains_possible_after_a_rejected_attempt(server: ServerProcess) -> None:
    c = server.client()
    assert_problem(c.post("/api/setup", json={"name": "", "password": OWNER_PASSWORD}), 400)
    assert_problem(c.post("/api/setup", json={"name": OWNER_NAME, "password": "short"}), 400)
    r = c.post("/api/setup", json={"name": OWNER_NAME, "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text


def test_setup_accepts_names_and_passwords_at_their_limits(server: ServerProcess) -> None:
    name = "n" * 64
    password = "p" * 1024
    r = server.client().post("/api/setup", json={"name": name, "password": password})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == name
    server.client().log_in(name, password)


def test_setup_accepts_an_eight_character_password(server: ServerProcess) -> None:
    r = server.client().post("/api/setup", json={"name": OWNER_NAME, "password": "12345678"})
    assert r.status_code == 200, r.text


def test_of_many_concurrent_setups_exactly_one_succeeds(server: ServerProcess) -> None:
    attempts = 16
    clients = [server.client() for _ in range(attempts)]

    def attempt(i: int) -> int:
        body = {"name": f"User {i}", "password": OWNER_PASSWORD}
        return clients[i].post("/api/setup", json=body).status_code

    statuses = at_once(attempts, attempt)

    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == attempts - 1, statuses
    winner = clients[statuses.index(200)]
    boot = winner.boot()
    assert len(boot["users"]) == 1
    assert boot["resume_point"] == 1


# Regression (issue 10): names people really have were refused "for control characters": emoji
# sequences joined by U+200D, Persian with a zero-width non-joiner U+200C, and a subdivision flag
# spelled with tag characters. Each must work as a user name (setup, invitation) and as a
# channel name, come back exactly, and log in.
TECHNOLOGIST = "\U0001f469\u200d\U0001f4bb"
ORDINARY_NAMES = [
    "\U0001f9d7\u200d\u2642\ufe0f",  # climber: ZWJ and a variation selector
    "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian "mikhaham", with a ZWNJ
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # flag of Scotland
]


def test_names_with_joiners_and_tag_characters_work_for_users_and_channels(
    server: ServerProcess,
) -> None:
    owner = server.client()
    r = owner.post("/api/setup", json={"name": TECHNOLOGIST, "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == TECHNOLOGIST
    for name in ORDINARY_NAMES:
        invite = owner.invite()
        assert server.client().accept_invite(invite["id"], name, OWNER_PASSWORD)["name"] == name
        assert owner.create_channel(name)["name"] == name
    for name in [TECHNOLOGIST, *ORDINARY_NAMES]:
        server.client().log_in(name, OWNER_PASSWORD)
    boot = owner.boot()
    assert [u["name"] for u in boot["users"]] == [TECHNOLOGIST, *ORDINARY_NAMES]
    assert [c["name"] for c in boot["channels"]] == ORDINARY_NAMES


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("Al\u200bice", "U+200B (ZERO WIDTH SPACE)"),
        ("\ufeffAlice", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("Alice\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("Al\u2067ice\u2069", "U+2067 (RIGHT-TO-LEFT ISOLATE)"),
    ],
    ids=["zero-width-space", "bom", "rtl-override", "rtl-isolate"],
)
def test_other_invisible_format_characters_are_refused_naming_the_character(
    unset_server: ServerProcess, name: str, named: str
) -> None:
    r = unset_server.client().post("/api/setup", json={"name": name, "password": OWNER_PASSWORD})
    assert named in assert_problem(r, 400)["detail"]
