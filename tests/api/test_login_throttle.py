"""The login throttle per name and client address, and per address (issue 11), through real
servers: a stranger cannot lock a member out, an address that guesses at many names is
stopped, guesses sent at once count as they arrive, X-Forwarded-For is believed only from
--trusted-proxies, and on PostgreSQL the limits hold across processes.

Different client addresses are real: Linux routes all of 127.0.0.0/8 to the loopback, so a
client bound to 127.0.0.2 is another peer of the server on 127.0.0.1. Behind a trusted proxy
(127.0.0.1 here), X-Forwarded-For values stand for other addresses. The rules one by one,
with explicit times, are in tests/store/test_login_attempts.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import (
    POSTGRES_ADMIN_URL,
    ServerProcess,
    fresh_postgres_database,
    invite_user,
)
from parlour_client import OWNER_NAME, OWNER_PASSWORD, assert_problem

WRONG = "not the password"
STRANGER = "127.0.0.2"
ELSEWHERE = "127.0.0.3"


def set_up(server: ServerProcess) -> httpx.Client:
    c = server.client()
    r = c.post("/api/setup", json={"name": OWNER_NAME, "password": OWNER_PASSWORD})
    assert r.status_code == 200, r.text
    return c


def from_peer(server: ServerProcess, address: str) -> httpx.Client:
    """A client whose connections come from `address` (one of 127.0.0.0/8)."""
    return server.client(transport=httpx.HTTPTransport(local_address=address))


def login(
    client: httpx.Client, name: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return client.post(
        "/api/auth/login", json={"name": name, "password": password}, headers=headers
    )


def assert_throttled(r: httpx.Response, window_seconds: int) -> str:
    """A throttle 429 (not "server busy"); returns its detail."""
    body = assert_problem(r, 429)
    retry_after = r.headers.get("retry-after", "")
    assert retry_after.isdigit(), r.headers
    assert 1 <= int(retry_after) <= window_seconds, retry_after
    assert "busy" not in body["detail"], body
    detail: str = body["detail"]
    return detail


def concurrent_logins(
    server: ServerProcess, names: list[str], forwarded_for: str | None = None
) -> list[httpx.Response]:
    """One wrong-password login per name, all sent at once, each on its own connection."""

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(names), max_keepalive_connections=0)
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        async with httpx.AsyncClient(base_url=server.url, timeout=120, limits=limits) as c:
            return await asyncio.gather(
                *(
                    c.post(
                        "/api/auth/login",
                        json={"name": name, "password": f"{WRONG} {i}"},
                        headers=headers,
                    )
                    for i, name in enumerate(names)
                )
            )

    return asyncio.run(run())


# --- per name and address ----------------------------------------------------------------


def test_a_strangers_failures_for_a_name_do_not_lock_its_owner_out(start_server: Any) -> None:
    # Regression (issue 11): failures were counted per name alone, so ten wrong passwords
    # typed by anyone, from anywhere, locked the name's owner out.
    server: ServerProcess = start_server("--login-failures", "3", "--login-window", "60s")
    set_up(server)
    stranger = from_peer(server, STRANGER)
    for _ in range(3):
        assert_problem(login(stranger, OWNER_NAME, WRONG), 401)
    assert_throttled(login(stranger, OWNER_NAME, OWNER_PASSWORD), 60)
    assert login(server.client(), OWNER_NAME, OWNER_PASSWORD).status_code == 200
    # The stranger stays throttled for that name.
    assert_throttled(login(stranger, OWNER_NAME, WRONG), 60)


def test_a_name_is_throttled_from_the_address_that_failed(start_server: Any) -> None:
    server: ServerProcess = start_server("--login-failures", "3", "--login-window", "60s")
    set_up(server)
    alice = server.client()
    for typed in ("alice", "ALICE", "Alice"):  # one name, as names are compared
        assert_problem(login(alice, typed, WRONG), 401)
    detail = assert_throttled(login(alice, "aLiCe", OWNER_PASSWORD), 60)
    assert "name" in detail
    assert login(from_peer(server, ELSEWHERE), OWNER_NAME, OWNER_PASSWORD).status_code == 200


def test_a_success_clears_only_that_names_failures_from_that_address(start_server: Any) -> None:
    server: ServerProcess = start_server(
        "--login-failures", "3", "--login-address-failures", "5", "--login-window", "60s"
    )
    owner = set_up(server)
    invite_user(server, owner, "Bob")
    c = server.client()
    for _ in range(2):
        assert_problem(login(c, OWNER_NAME, WRONG), 401)
        assert_problem(login(c, "Bob", WRONG), 401)
    assert login(c, OWNER_NAME, OWNER_PASSWORD).status_code == 200
    # Alice's two failures are forgotten; Bob's two still count, for his name and the address.
    assert_problem(login(c, "Bob", WRONG), 401)
    assert_throttled(login(c, "Bob", "password Bob"), 60)
    for _ in range(2):
        assert_problem(login(c, OWNER_NAME, WRONG), 401)
    # 3 for Bob + 2 for Alice: the address has had its 5.
    assert "address" in assert_throttled(login(c, "Carol", WRONG), 60)


def test_a_deactivated_users_right_password_counts_as_a_failure(start_server: Any) -> None:
    server: ServerProcess = start_server("--login-failures", "3", "--login-window", "60s")
    owner = set_up(server)
    invite_user(server, owner, "Bob")
    bob = next(u for u in owner.get("/api/boot").json()["users"] if u["name"] == "Bob")
    assert owner.post(f"/api/users/{bob['id']}", json={"active": False}).status_code < 300
    c = server.client()
    for _ in range(3):
        assert_problem(login(c, "Bob", "password Bob"), 401)
    assert_throttled(login(c, "Bob", "password Bob"), 60)


def test_failures_survive_a_restart(start_server: Any) -> None:
    server: ServerProcess = start_server("--login-failures", "3", "--login-window", "60s")
    set_up(server)
    c = server.client()
    for _ in range(3):
        assert_problem(login(c, OWNER_NAME, WRONG), 401)
    server.restart()
    assert_throttled(login(server.client(), OWNER_NAME, OWNER_PASSWORD), 60)


# --- per address -------------------------------------------------------------------------


def test_an_address_that_fails_for_many_names_gets_429_for_every_login(
    start_server: Any,
) -> None:
    server: ServerProcess = start_server(
        "--login-failures", "3", "--login-address-failures", "6", "--login-window", "60s"
    )
    set_up(server)
    guesser = from_peer(server, STRANGER)
    for i in range(6):
        assert_problem(login(guesser, f"someone {i}", WRONG), 401)
    r = login(guesser, OWNER_NAME, OWNER_PASSWORD)
    assert "address" in assert_throttled(r, 60)
    assert not any(h.startswith("identity=") for h in r.headers.get_list("set-cookie"))
    assert_throttled(login(guesser, "someone new", WRONG), 60)
    # Every other address, the owner's included, is unaffected.
    assert login(server.client(), OWNER_NAME, OWNER_PASSWORD).status_code == 200


def test_the_address_limit_defaults_to_50_failures(start_server: Any) -> None:
    server: ServerProcess = start_server()
    set_up(server)
    guesser = from_peer(server, STRANGER)
    for i in range(50):
        assert_problem(login(guesser, f"name {i % 25}", WRONG), 401)
    r = login(guesser, "name 51", WRONG)
    assert "address" in assert_throttled(r, 300)


# --- guesses sent at once ----------------------------------------------------------------


def test_concurrent_guesses_for_one_name_count_as_they_arrive(start_server: Any) -> None:
    server: ServerProcess = start_server("--login-failures", "5", "--login-window", "300s")
    set_up(server)
    answers = concurrent_logins(server, [OWNER_NAME] * 30)
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {401, 429}, statuses
    assert 1 <= statuses.count(401) <= 5, statuses
    for r in answers:
        if r.status_code == 429:
            assert_throttled(r, 300)
    assert login(from_peer(server, STRANGER), OWNER_NAME, OWNER_PASSWORD).status_code == 200


def test_concurrent_guesses_over_many_names_count_against_the_address(
    start_server: Any,
) -> None:
    server: ServerProcess = start_server(
        "--login-failures", "100", "--login-address-failures", "5", "--login-window", "300s"
    )
    set_up(server)
    answers = concurrent_logins(server, [f"name {i}" for i in range(30)])
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {401, 429}, statuses
    assert 1 <= statuses.count(401) <= 5, statuses
    for r in answers:
        if r.status_code == 429:
            assert "address" in assert_throttled(r, 300)


# --- Retry-After -------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["--login-failures", "--login-address-failures"])
def test_a_throttled_client_gets_in_once_retry_after_has_passed(
    start_server: Any, limit: str
) -> None:
    server: ServerProcess = start_server(limit, "2", "--login-window", "3s")
    set_up(server)
    c = server.client()
    for _ in range(2):
        assert_problem(login(c, OWNER_NAME, WRONG), 401)
    r = login(c, OWNER_NAME, OWNER_PASSWORD)
    retry_after = int(r.headers["retry-after"])
    assert_throttled(r, 3)
    time.sleep(retry_after + 0.3)
    assert login(c, OWNER_NAME, OWNER_PASSWORD).status_code == 200


def test_retry_after_counts_from_the_most_recent_failure(start_server: Any) -> None:
    server: ServerProcess = start_server("--login-failures", "2", "--login-window", "60s")
    set_up(server)
    c = server.client()
    assert_problem(login(c, OWNER_NAME, WRONG), 401)
    time.sleep(3)
    assert_problem(login(c, OWNER_NAME, WRONG), 401)
    r = login(c, OWNER_NAME, WRONG)
    assert_throttled(r, 60)
    # 60 s after the second failure, not the first: at least 58 s with time to spare.
    assert int(r.headers["retry-after"]) >= 58, r.headers


# --- X-Forwarded-For and --trusted-proxies -----------------------------------------------


def test_x_forwarded_for_is_ignored_without_trusted_proxies(start_server: Any) -> None:
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: parlour must switch that
    # off, or anyone reaching it on the loopback could pick a fresh address per guess.
    server: ServerProcess = start_server("--login-failures", "3", "--login-window", "60s")
    set_up(server)
    c = server.client()
    for i in range(3):
        assert_problem(login(c, OWNER_NAME, WRONG, forwarded_for=f"203.0.113.{i}"), 401)
    assert_throttled(login(c, OWNER_NAME, OWNER_PASSWORD, forwarded_for="198.51.100.7"), 60)


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(start_server: Any) -> None:
    server: ServerProcess = start_server(
        "--login-failures", "3", "--login-window", "60s", "--trusted-proxies", "127.0.0.1"
    )
    set_up(server)
    proxy = server.client()
    for _ in range(3):
        assert_problem(login(proxy, OWNER_NAME, WRONG, forwarded_for="203.0.113.9"), 401)
    assert_throttled(login(proxy, OWNER_NAME, OWNER_PASSWORD, forwarded_for="203.0.113.9"), 60)
    # Alice, behind the same proxy from her own address, logs in.
    r = login(proxy, OWNER_NAME, OWNER_PASSWORD, forwarded_for="198.51.100.7")
    assert r.status_code == 200, r.text


def test_what_a_client_writes_before_the_proxys_entry_is_not_believed(
    start_server: Any,
) -> None:
    # A proxy appends the peer it saw; whatever the client sent itself comes before that.
    server: ServerProcess = start_server(
        "--login-failures", "3", "--login-window", "60s", "--trusted-proxies", "127.0.0.1"
    )
    set_up(server)
    proxy = server.client()
    for i in range(3):
        forwarded = f"192.0.2.{i}, 203.0.113.9"
        assert_problem(login(proxy, OWNER_NAME, WRONG, forwarded_for=forwarded), 401)
    assert_throttled(login(proxy, OWNER_NAME, WRONG, forwarded_for="192.0.2.77, 203.0.113.9"), 60)


def test_x_forwarded_for_from_a_peer_not_listed_is_ignored(start_server: Any) -> None:
    server: ServerProcess = start_server(
        "--login-failures", "3", "--login-window", "60s", "--trusted-proxies", "127.0.0.1"
    )
    set_up(server)
    stranger = from_peer(server, STRANGER)
    for i in range(3):
        assert_problem(login(stranger, OWNER_NAME, WRONG, forwarded_for=f"203.0.113.{i}"), 401)
    assert_throttled(login(stranger, OWNER_NAME, WRONG, forwarded_for="198.51.100.7"), 60)


def test_trusted_proxies_may_be_networks(start_server: Any) -> None:
    server: ServerProcess = start_server(
        "--login-failures", "2", "--login-window", "60s", "--trusted-proxies", "::1, 127.0.0.0/8"
    )
    set_up(server)
    proxy = from_peer(server, STRANGER)
    for _ in range(2):
        assert_problem(login(proxy, OWNER_NAME, WRONG, forwarded_for="203.0.113.9"), 401)
    assert_throttled(login(proxy, OWNER_NAME, WRONG, forwarded_for="203.0.113.9"), 60)
    assert login(proxy, OWNER_NAME, OWNER_PASSWORD, forwarded_for="198.51.100.7").status_code == 200


def test_the_limits_and_proxies_can_be_set_by_environment_variables(start_server: Any) -> None:
    server: ServerProcess = start_server(
        "--login-window",
        "60s",
        env={"PARLOUR_TRUSTED_PROXIES": "127.0.0.1", "PARLOUR_LOGIN_ADDRESS_FAILURES": "2"},
    )
    set_up(server)
    proxy = server.client()
    for i in range(2):
        assert_problem(login(proxy, f"name {i}", WRONG, forwarded_for="203.0.113.9"), 401)
    r = login(proxy, OWNER_NAME, OWNER_PASSWORD, forwarded_for="203.0.113.9")
    assert "address" in assert_throttled(r, 60)
    r = login(proxy, OWNER_NAME, OWNER_PASSWORD, forwarded_for="198.51.100.7")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--trusted-proxies", "127.0.0.1,proxy.example.org"], "proxy.example.org"),
        (["--trusted-proxies", "10.0.0.0/33"], "10.0.0.0/33"),
        (["--login-address-failures", "0"], "0"),
    ],
)
def test_a_bad_throttle_flag_exits_2_naming_it(
    tmp_path: Path, args: list[str], mentions: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parlour", "serve", "--database", str(tmp_path / "p.db"), *args],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2, result
    assert args[0] in result.stderr, result.stderr
    assert mentions in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "p.db").exists()


def test_an_ipv6_client_is_counted_by_its_64_bit_prefix(start_server: Any) -> None:
    server: ServerProcess = start_server(
        "--login-failures", "3", "--login-window", "60s", "--trusted-proxies", "127.0.0.1"
    )
    set_up(server)
    proxy = server.client()
    for host in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"):
        assert_problem(login(proxy, OWNER_NAME, WRONG, forwarded_for=host), 401)
    assert_throttled(login(proxy, OWNER_NAME, WRONG, forwarded_for="2001:db8:1:2::3"), 60)
    r = login(proxy, OWNER_NAME, OWNER_PASSWORD, forwarded_for="2001:db8:1:3::1")
    assert r.status_code == 200, r.text


# --- several processes on one PostgreSQL database ----------------------------------------


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    if not POSTGRES_ADMIN_URL:
        pytest.skip("no PostgreSQL test cluster")
    url = fresh_postgres_database()
    args = ["--login-failures", "4", "--login-address-failures", "8", "--login-window", "300s"]
    servers = [ServerProcess(tmp_path / f"unused-{i}.db", args, database_url=url) for i in range(2)]
    try:
        for s in servers:
            s.start()
        yield servers
    finally:
        for s in servers:
            s.close()


@pytest.mark.postgres
def test_failures_through_two_processes_add_up(two_processes: list[ServerProcess]) -> None:
    one, two = two_processes
    set_up(one)
    for server in (one, two, one, two):
        assert_problem(login(server.client(), OWNER_NAME, WRONG), 401)
    for server in (one, two):
        assert_throttled(login(server.client(), OWNER_NAME, OWNER_PASSWORD), 300)
    # The address limit too: 4 for Alice's name, 4 more for others, over both processes.
    for i, server in enumerate((two, one, two, one)):
        assert_problem(login(server.client(), f"someone {i}", WRONG), 401)
    for server in (one, two):
        r = login(server.client(), "someone new", WRONG)
        assert "address" in assert_throttled(r, 300)
    # Another address is not affected, through either process.
    assert login(from_peer(two, STRANGER), OWNER_NAME, OWNER_PASSWORD).status_code == 200


@pytest.mark.postgres
def test_concurrent_guesses_through_two_processes_count_as_they_arrive(
    two_processes: list[ServerProcess],
) -> None:
    one, two = two_processes
    set_up(one)

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=0)
        async with (
            httpx.AsyncClient(base_url=one.url, timeout=120, limits=limits) as a,
            httpx.AsyncClient(base_url=two.url, timeout=120, limits=limits) as b,
        ):
            return await asyncio.gather(
                *(
                    (a if i % 2 else b).post(
                        "/api/auth/login", json={"name": OWNER_NAME, "password": f"{WRONG} {i}"}
                    )
                    for i in range(30)
                )
            )

    statuses = [r.status_code for r in asyncio.run(run())]
    assert set(statuses) <= {401, 429}, statuses
    assert 1 <= statuses.count(401) <= 4, statuses
