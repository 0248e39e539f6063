"""Setting up a community on a real parlour through its API: admin, channel, members.

Every member is made as a user is made in production: the admin issues an invite
(`POST /api/invite`) and the member accepts it (`POST /api/invite/{id}`), which creates the
user and its own session. Accepting costs one argon2id hash (about 0.2 s of CPU here), so
a thousand members take minutes; the suite makes them once per run (see community.py).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench.http1 import Connection, HttpError

PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway account on a throwaway database
# argon2id already keeps both cores busy; more concurrent accepts only add memory pressure.
ACCEPT_CONCURRENCY = 2
PROGRESS_EVERY = 100


@dataclass(frozen=True)
class Member:
    """A user and one logged-in session: the cookie to send."""

    id: str
    name: str
    cookie: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class ApiError(Exception):
    pass


def _cookie(cookies: dict[str, str]) -> str:
    token = cookies.get("identity")
    if not token:
        raise ApiError("the server set no identity cookie")
    return f"identity={token}"


async def call(
    conn: Connection,
    method: str,
    path: str,
    body: Any = None,
    cookie: str | None = None,
    expect: int = 200,
) -> tuple[Any, dict[str, str]]:
    response = await conn.request(method, path, json_body=body, cookie=cookie)
    if response.status != expect:
        raise ApiError(f"{method} {path} answered {response.status}: {response.body[:300]!r}")
    return (response.json() if response.body else None), response.cookies


async def set_up(conn: Connection, name: str) -> Member:
    """The first user (POST /api/setup); on a database already set up (409), log in."""
    response = await conn.request(
        "POST", "/api/setup", json_body={"name": name, "password": PASSWORD}
    )
    if response.status == 409:
        user, cookies = await call(
            conn, "POST", "/api/auth/login", {"name": name, "password": PASSWORD}
        )
        return Member(user["id"], user["name"], _cookie(cookies))
    if response.status != 200:
        raise ApiError(f"POST /api/setup answered {response.status}: {response.body[:300]!r}")
    user = response.json()
    return Member(user["id"], user["name"], _cookie(response.cookies))


async def create_channel(conn: Connection, admin: Member, name: str) -> str:
    channel, _ = await call(
        conn, "POST", "/api/channels", {"name": name}, cookie=admin.cookie, expect=202
    )
    return str(channel["id"])


async def invite_member(conn: Connection, admin: Member, name: str) -> Member:
    invite, _ = await call(conn, "POST", "/api/invite", cookie=admin.cookie)
    user, cookies = await call(
        conn, "POST", f"/api/invite/{invite['id']}", {"name": name, "password": PASSWORD}
    )
    return Member(user["id"], user["name"], _cookie(cookies))


async def invite_members(
    host: str,
    port: int,
    admin: Member,
    prefix: str,
    count: int,
    progress: Callable[[int], None] | None = None,
) -> list[Member]:
    """`count` new members named prefix-0001…, made a few at a time, in name order.

    `progress(done)` is called after every PROGRESS_EVERY members (this can take minutes).
    """
    names = [f"{prefix}-{i:05d}" for i in range(count)]
    members: dict[str, Member] = {}
    queue = list(reversed(names))

    async def worker() -> None:
        conn = await Connection.open(host, port)
        try:
            while queue:
                name = queue.pop()
                members[name] = await invite_member(conn, admin, name)
                if progress is not None and len(members) % PROGRESS_EVERY == 0:
                    progress(len(members))
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(min(ACCEPT_CONCURRENCY, count))))
    return [members[name] for name in names]


async def boot(conn: Connection, member: Member) -> tuple[dict[str, Any], int, float]:
    """GET /api/boot: the snapshot, its size in bytes and the seconds it took."""
    response = await conn.request("GET", "/api/boot", cookie=member.cookie, limit_seconds=120)
    if response.status != 200:
        raise HttpError(f"GET /api/boot answered {response.status}: {response.body[:300]!r}")
    return response.json(), len(response.body), response.seconds


async def newest_event(host: str, port: int, member: Member) -> int:
    """The resume point of a fresh boot: a stream opened there replays nothing."""
    conn = await Connection.open(host, port)
    try:
        snapshot, _, _ = await boot(conn, member)
    finally:
        await conn.close()
    return int(snapshot["resume_point"])


def run_suffix() -> str:
    """Keeps names unique if a database is reused (a --database-url server)."""
    return secrets.token_hex(3)
