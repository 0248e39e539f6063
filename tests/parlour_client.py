"""The one typed client of parlour's API that black-box tests use (issue 10).

`ParlourClient` is an `httpx.Client` for one "browser" (its own cookie jar) with a method per
API call a test makes on its way to what it checks: `set_up`, `log_in`, `create_channel`,
`send_message`, `invite`… Each method asserts the documented success status and returns the
parsed answer, typed after the shapes in docs/api/index.md (TypedDicts, so an answer still
compares equal to the same JSON read elsewhere, from boot or an event). A test whose subject
is a refusal calls the plain httpx methods (`post`, `delete`…) and checks the answer with
`assert_problem`. tests/conftest.py's `ServerProcess.client()` hands out these clients;
tests/sse_client.py reads event streams.

Add a method here when a test needs an API call that is missing, rather than writing the
request in the test: then a change to the API is one change in the tests too.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Literal, NotRequired, Protocol, TypedDict, TypeVar, cast

import httpx

T = TypeVar("T")

OWNER_NAME = "Alice"
OWNER_PASSWORD = "correct horse battery"
"""Who completes setup unless a test says otherwise (the `owner` fixture's user)."""

# Ids of the right shape that no server hands out (docs/api/index.md, "Ids"): a letter for
# the kind, then more than 16 URL-safe characters.
UNKNOWN_USER = "U" + "x" * 24
UNKNOWN_CHANNEL = "C" + "x" * 24
UNKNOWN_MESSAGE = "M" + "x" * 24
UNKNOWN_INVITE = "I" + "x" * 24
UNKNOWN_RESET = "R" + "x" * 43

USER_ID = re.compile(r"^U[A-Za-z0-9_-]{16,}$")
CHANNEL_ID = re.compile(r"^C[A-Za-z0-9_-]{16,}$")
MESSAGE_ID = re.compile(r"^M[A-Za-z0-9_-]{16,}$")
INVITE_ID = re.compile(r"^I[A-Za-z0-9_-]{16,}$")
RESET_ID = re.compile(r"^R[A-Za-z0-9_-]{16,}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
"""RFC 3339 in UTC with a `Z` suffix, e.g. 2026-11-26T03:04:05.123Z (docs/api/index.md)."""


def parse_time(value: str) -> datetime:
    """A time of an answer or an event, checked to be in the documented form."""
    assert TIME.match(value), f"{value!r} is not RFC 3339 UTC with Z"
    return datetime.fromisoformat(value)


def fresh_name(kind: str = "user") -> str:
    """A name no other test uses: for what a test creates on a server it shares with others."""
    return f"{kind} {secrets.token_hex(4)}"


def password_for(name: str) -> str:
    """The password `invite_user` and `accept_invite` give a user unless told otherwise."""
    return "password " + name


# --- the answers' shapes (docs/api/index.md; src/parlour/wire.py defines them) ---------------


class UserRef(TypedDict):
    id: str
    name: str


class User(TypedDict):
    id: str
    name: str
    role: Literal["admin", "member"]
    active: bool


class Channel(TypedDict):
    id: str
    name: str | None
    created_at: str
    kind: Literal["public", "private", "direct"]
    members: NotRequired[list[str]]


class Reaction(TypedDict):
    emoji: str
    users: list[str]


class Message(TypedDict):
    id: str
    seq: int
    channel: str
    sender: str
    body: str
    sent_at: str
    edited_at: str | None
    mentions: list[str]
    reactions: list[Reaction]
    client_id: str | None


class Invite(TypedDict):
    id: str
    issuer: UserRef
    issued_at: str
    expires_at: str


class ResetLink(TypedDict):
    id: str
    user: UserRef
    issued_at: str
    expires_at: str


class Deleted(TypedDict):
    id: str


class Read(TypedDict):
    seq: int
    unread: int
    mentions: int
    notify: Literal["all", "mentions", "none"]


class Boot(TypedDict):
    user: User
    resume_point: int
    heartbeat: int
    users: list[User]
    channels: list[Channel]
    messages: list[Message]
    older: dict[str, bool]
    reads: dict[str, Read]


class Page(TypedDict):
    messages: list[Message]
    older: bool
    newer: bool
    position: int


class Problem(TypedDict):
    type: str
    title: str
    status: int
    detail: str


def expect(response: httpx.Response, status: int) -> Any:
    """The JSON body of an answer that must have this status (the failure shows the answer)."""
    request = response.request
    assert response.status_code == status, (
        f"{request.method} {request.url.path} {request.content[:300]!r}: "
        f"{response.status_code}, not {status}: {response.text[:500]}"
    )
    return response.json()


def assert_problem(response: httpx.Response, status: int) -> Problem:
    """Assert an RFC 9457 problem document with this status (docs/api/errors.md); return it."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == "application/problem+json", response.headers.get("content-type")
    body: dict[str, Any] = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"].strip()
    assert isinstance(body["detail"], str)
    assert body["detail"].strip()
    return cast(Problem, body)


class ParlourClient(httpx.Client):
    """One browser's view of a parlour server: a cookie jar, and the API as typed methods.

    `token` presents that session token as a `Cookie` header instead: such a client keeps
    presenting it whatever `Set-Cookie` answers say, as a client that kept a stolen or an
    old token would (the jar is then ignored).
    """

    def __init__(self, base_url: str, *, token: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", 30.0)
        super().__init__(base_url=base_url, **kwargs)
        if token is not None:
            self.headers["cookie"] = f"identity={token}"

    @property
    def token(self) -> str:
        """This client's session token, from its cookie jar (docs/api/sessions.md)."""
        # A jar may hold the cookie twice (set by a test for any host, and by the server for
        # its own): the one set last is the session in use.
        tokens = [c.value for c in self.cookies.jar if c.name == "identity" and c.value]
        assert tokens, "this client holds no session"
        return str(tokens[-1])

    # --- docs/api/setup.md, docs/api/sessions.md ---------------------------------------------

    def set_up(self, name: str = OWNER_NAME, password: str = OWNER_PASSWORD) -> User:
        """Complete setup: this client becomes the first user, logged in."""
        body = {"name": name, "password": password}
        return cast(User, expect(self.post("/api/setup", json=body), 200))

    def log_in(self, name: str = OWNER_NAME, password: str = OWNER_PASSWORD) -> User:
        body = {"name": name, "password": password}
        return cast(User, expect(self.post("/api/auth/login", json=body), 200))

    def log_out(self) -> None:
        response = self.post("/api/auth/logout")
        assert response.status_code == 204, response.text

    def change_password(self, password: str, to: str) -> User:
        body = {"password": password, "to": to}
        return cast(User, expect(self.post("/api/password", json=body), 200))

    # --- docs/api/invitations.md ---------------------------------------------------------------

    def invite(self) -> Invite:
        return cast(Invite, expect(self.post("/api/invite", json={}), 200))

    def look_at_invite(self, invite_id: str) -> Invite:
        return cast(Invite, expect(self.get(f"/api/invite/{invite_id}"), 200))

    def accept_invite(self, invite_id: str, name: str, password: str | None = None) -> User:
        """Accept as a new user: this client is then logged in as them."""
        body = {"name": name, "password": password_for(name) if password is None else password}
        return cast(User, expect(self.post(f"/api/invite/{invite_id}", json=body), 200))

    # --- docs/api/boot.md ----------------------------------------------------------------------

    def boot(self, messages: int | None = None) -> Boot:
        """The snapshot; `messages`: how many of each channel's newest messages (0-200; the
        server's default, 50, when None)."""
        params = {} if messages is None else {"messages": str(messages)}
        return cast(Boot, expect(self.get("/api/boot", params=params), 200))

    def me(self) -> User:
        return self.boot()["user"]

    def resume_point(self) -> int:
        return self.boot()["resume_point"]

    def channel_names(self) -> list[str]:
        """The names of the channels boot shows, in order (a direct channel has none)."""
        return [c["name"] for c in self.boot()["channels"] if c["name"] is not None]

    # --- docs/api/channels-and-messages.md -----------------------------------------------------

    def create_channel(self, name: str = "general") -> Channel:
        return cast(Channel, expect(self.post("/api/channels", json={"name": name}), 202))

    def delete_channel(self, channel_id: str) -> Deleted:
        return cast(Deleted, expect(self.delete(f"/api/channels/{channel_id}"), 202))

    def send_message(self, channel_id: str, body: str = "hello") -> Message:
        # Not `send`: httpx.Client.send is how every request goes out.
        answer = self.post(f"/api/channels/{channel_id}", json={"body": body})
        return cast(Message, expect(answer, 202))

    def delete_message(self, message_id: str) -> Deleted:
        return cast(Deleted, expect(self.delete(f"/api/messages/{message_id}"), 202))

    # --- docs/api/history.md (revision 2: boot carries only each channel's newest messages) ---

    def history_page(
        self,
        channel_id: str,
        *,
        before: int | None = None,
        after: int | None = None,
        limit: int | None = None,
    ) -> Page:
        params = {
            k: str(v)
            for k, v in (("before", before), ("after", after), ("limit", limit))
            if v is not None
        }
        answer = self.get(f"/api/channels/{channel_id}/messages", params=params)
        return cast(Page, expect(answer, 200))

    def all_messages(self, channel_id: str) -> list[Message]:
        """Every retained message of a channel, in sequence order, page by page from the
        newest: what boot no longer carries past each channel's newest 50."""
        found: list[Message] = []
        before: int | None = None
        while True:
            page = self.history_page(channel_id, before=before, limit=200)
            found[:0] = page["messages"]
            if not page["older"] or not page["messages"]:
                return found
            before = page["messages"][0]["seq"]

    def boot_everything(self) -> Boot:
        """A boot holding every retained message, not only each channel's newest: the boot,
        then the history of each channel that has older messages. Only while the server is
        quiet is this one consistent snapshot."""
        snapshot = self.boot(messages=200)
        older = [c for c, more in snapshot["older"].items() if more]
        if older:
            kept = [m for m in snapshot["messages"] if m["channel"] not in older]
            paged = [m for c in older for m in self.all_messages(c)]
            snapshot["messages"] = sorted(kept + paged, key=lambda m: m["seq"])
            snapshot["older"] = dict.fromkeys(snapshot["older"], False)
        return snapshot

    # --- issue 11: docs/api/members.md, and invitations to list and revoke --------------------

    def change_user(self, user_id: str, **changes: Any) -> User:
        """POST /api/users/{id} with any of name, role, active: the user as they now are."""
        return cast(User, expect(self.post(f"/api/users/{user_id}", json=changes), 202))

    def deactivate(self, user_id: str) -> User:
        return self.change_user(user_id, active=False)

    def reactivate(self, user_id: str) -> User:
        return self.change_user(user_id, active=True)

    def make_reset_link(self, user_id: str) -> ResetLink:
        return cast(ResetLink, expect(self.post(f"/api/users/{user_id}/reset"), 200))

    def look_at_reset_link(self, reset_id: str) -> ResetLink:
        return cast(ResetLink, expect(self.get(f"/api/reset/{reset_id}"), 200))

    def use_reset_link(self, reset_id: str, password: str) -> User:
        """Set a new password through the link: this client is then logged in as its user."""
        answer = self.post(f"/api/reset/{reset_id}", json={"password": password})
        return cast(User, expect(answer, 200))

    def invites(self) -> list[Invite]:
        return cast(list[Invite], expect(self.get("/api/invites"), 200)["invites"])

    def revoke_invite(self, invite_id: str) -> None:
        answer = self.delete(f"/api/invite/{invite_id}")
        assert answer.status_code == 204, answer.text

    # --- tracker issues 14 and 15 (read state; mentions, edits, reactions) and issue 16's
    # client_id: docs/api/channels-and-messages.md, docs/api/reads.md -----------------------

    def say(
        self,
        channel_id: str,
        body: str = "hello",
        *,
        mentions: list[str] | None = None,
        client_id: str | None = None,
        status: int = 202,
    ) -> FullMessage:
        """Send with the fields of revision 2; `status` 200 is a retry that found its
        `client_id`'s message (nothing posted)."""
        data: dict[str, Any] = {"body": body}
        if mentions is not None:
            data["mentions"] = mentions
        if client_id is not None:
            data["client_id"] = client_id
        return cast(
            FullMessage, expect(self.post(f"/api/channels/{channel_id}", json=data), status)
        )

    def edit(self, message_id: str, body: str, mentions: list[str] | None = None) -> FullMessage:
        """Edit one's message; `mentions` left out means none."""
        data: dict[str, Any] = {"body": body}
        if mentions is not None:
            data["mentions"] = mentions
        return cast(FullMessage, expect(self.post(f"/api/messages/{message_id}", json=data), 202))

    def react(self, message_id: str, emoji: str) -> FullMessage:
        answer = self.post(f"/api/messages/{message_id}/reactions", json={"emoji": emoji})
        return cast(FullMessage, expect(answer, 202))

    def unreact(self, message_id: str, emoji: str) -> FullMessage:
        return cast(FullMessage, expect(self.delete(reaction_path(message_id, emoji)), 202))

    def mark_read(self, channel_id: str, seq: int) -> Read:
        answer = self.post(f"/api/channels/{channel_id}/read", json={"seq": seq})
        return cast(Read, expect(answer, 202))

    def set_notify(self, channel_id: str, level: str) -> Read:
        answer = self.post(f"/api/channels/{channel_id}/notify", json={"level": level})
        return cast(Read, expect(answer, 202))

    def full_boot(self, messages: int | None = None) -> FullBoot:
        """Boot as revision 2 answers it (`older`, `reads`, messages with every field)."""
        return cast(FullBoot, self.boot(messages))

    def reads(self) -> dict[str, Read]:
        """Boot's `reads`: this user's read state in every channel they can see."""
        return self.full_boot(0)["reads"]

    def retained_messages(self, channel_id: str) -> list[FullMessage]:
        """Every retained message of a channel, oldest first (docs/api/history.md)."""
        return self.all_messages(channel_id)

    def private_channel(self, name: str, members: list[str]) -> dict[str, Any]:
        """A new private channel of the caller and `members` (docs/api/channels-and-messages.md)."""
        return self.create_private_channel(name, members)

    # --- issue 13: private and direct channels, members, history, users -----------------------
    # (docs/api/channels-and-messages.md, docs/api/history.md, docs/api/members.md). Plain
    # dicts: revision 2's channels and messages carry fields (kind, members, seq…) that the
    # TypedDicts above predate.

    def snapshot(self, messages: int | None = None) -> dict[str, Any]:
        """GET /api/boot as revision 2 answers it (with `older` and `reads`); `messages` per
        channel, or the default."""
        return cast(dict[str, Any], self.boot(messages))

    def create_private_channel(self, name: str, members: list[str]) -> dict[str, Any]:
        body = {"name": name, "kind": "private", "members": members}
        return cast(dict[str, Any], expect(self.post("/api/channels", json=body), 202))

    def open_direct(self, members: list[str], status: int | None = None) -> dict[str, Any]:
        """The direct channel of the caller and `members`; with `status`, that answer (202:
        made now, 200: it existed already) is asserted."""
        answer = self.post("/api/direct", json={"members": members})
        if status is None:
            assert answer.status_code in (200, 202), answer.text
            status = answer.status_code
        return cast(dict[str, Any], expect(answer, status))

    def add_member(self, channel_id: str, user_id: str) -> dict[str, Any]:
        answer = self.post(f"/api/channels/{channel_id}/members", json={"user": user_id})
        return cast(dict[str, Any], expect(answer, 202))

    def remove_member(self, channel_id: str, user_id: str) -> dict[str, Any]:
        """Leave (one's own id), or remove someone (an admin who is a member)."""
        answer = self.delete(f"/api/channels/{channel_id}/members/{user_id}")
        return cast(dict[str, Any], expect(answer, 202))

    def history(self, channel_id: str, **params: int) -> dict[str, Any]:
        """One page of GET /api/channels/{id}/messages (`before`, `after`, `limit`)."""
        return cast(dict[str, Any], self.history_page(channel_id, **params))

    def direct_channel(self, members: list[str]) -> dict[str, Any]:
        """The direct channel of the caller and `members`, made if new."""
        return self.open_direct(members)

    # --- end of tracker issues 14, 15 and 16's client_id ----------------------------------


# --- tracker issues 14 and 15 (read state; mentions, edits, reactions) and issue 16's
# client_id: revision 2's shapes (docs/api/index.md) ---------------------------------------


# Revision 2's message has every field already (the name stays for the tests that use it).
FullMessage = Message


class FullBoot(TypedDict):
    user: User
    resume_point: int
    heartbeat: int
    users: list[User]
    channels: list[dict[str, Any]]
    messages: list[FullMessage]
    older: dict[str, bool]
    reads: dict[str, Read]


def reaction_path(message_id: str, emoji: str) -> str:
    """The path that removes one's reaction: the emoji's UTF-8 bytes, every one of them
    percent-encoded (so that "/", "%", " ", "." and "+" reach the server as themselves)."""
    return f"/api/messages/{message_id}/reactions/" + "".join(
        f"%{byte:02X}" for byte in emoji.encode()
    )


# --- end of tracker issues 14, 15 and 16's client_id ----------------------------------------


class Server(Protocol):
    """What hands out clients of one server (tests/conftest.py's ServerProcess)."""

    def client(self, *, token: str | None = None, **kwargs: Any) -> ParlourClient: ...


def invite_user(server: Server, inviter: httpx.Client, name: str) -> ParlourClient:
    """Create a user through an invitation; return a new client logged in as them (their
    password is `password_for(name)`)."""
    invite = expect(inviter.post("/api/invite", json={}), 200)
    client = server.client()
    client.accept_invite(invite["id"], name)
    return client


class Senders:
    """Threads that send messages as fast as they can with one session, each on a connection
    of its own, until stopped or the server goes away: the load of tests that stop or kill a
    server while it writes. `acknowledged` (id: body) gains each message as its 202 arrives."""

    def __init__(self, url: str, cookies: httpx.Cookies, channel_id: str, count: int) -> None:
        # Written by the sending threads, without a lock: under the GIL one dict insert is
        # atomic, and len() is all that is read before `stop` has joined them.
        self.acknowledged: dict[str, str] = {}
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._send, args=(url, cookies, channel_id, f"sender {i}"))
            for i in range(count)
        ]
        for t in self._threads:
            t.start()

    def _send(self, url: str, cookies: httpx.Cookies, channel_id: str, tag: str) -> None:
        with ParlourClient(url, cookies=cookies, timeout=10) as client:
            n = 0
            while not self._stopping.is_set():
                body = f"{tag} message {n}"
                n += 1
                try:
                    answer = client.post(f"/api/channels/{channel_id}", json={"body": body})
                except httpx.HTTPError:
                    return  # the server is gone
                if answer.status_code == 202:
                    self.acknowledged[answer.json()["id"]] = body

    def wait_for(self, count: int, timeout: float) -> None:
        """Until `count` messages are acknowledged."""
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, f"only {len(self.acknowledged)} sends answered"
            time.sleep(0.001)

    def stop(self) -> dict[str, str]:
        """Stop sending (a request in flight is finished or fails); what was acknowledged."""
        self._stopping.set()
        for t in self._threads:
            t.join(20)
            assert not t.is_alive(), "a sender did not stop"
        return dict(self.acknowledged)


def at_once(count: int, attempt: Callable[[int], T]) -> list[T]:
    """attempt(0) to attempt(count - 1), each on a thread of its own, all released at the same
    moment: the way to race requests against each other. Their results, in order."""
    barrier = threading.Barrier(count, timeout=10)

    def run(i: int) -> T:
        barrier.wait()
        return attempt(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


# --- issue 12: boot's newest messages and history pages (docs/api/boot.md, docs/api/history.md)
# Functions of a client rather than methods, so that this block merges apart from the others.


class NewestBoot(TypedDict):
    """Boot with each visible channel's newest messages and whether older ones exist."""

    user: User
    resume_point: int
    heartbeat: int
    users: list[User]
    channels: list[Channel]
    messages: list[FullMessage]
    older: dict[str, bool]


def history_params(
    before: int | None = None, after: int | None = None, limit: int | None = None
) -> dict[str, int]:
    """The query of a history request, without the parameters left out."""
    given = {"before": before, "after": after, "limit": limit}
    return {name: value for name, value in given.items() if value is not None}


def post_message(client: ParlourClient, channel_id: str, body: str) -> FullMessage:
    """Send a message; the answer as revision 2 shows it (with its `seq`)."""
    return client.send_message(channel_id, body)


def boot_newest(client: ParlourClient, messages: int | None = None) -> NewestBoot:
    """GET /api/boot, asking for `messages` newest messages per channel (None: the default)."""
    params = {} if messages is None else {"messages": messages}
    return cast(NewestBoot, expect(client.get("/api/boot", params=params), 200))


def history(
    client: ParlourClient,
    channel_id: str,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> Page:
    """GET /api/channels/{id}/messages: one page of the channel's history."""
    params = history_params(before, after, limit)
    answer = client.get(f"/api/channels/{channel_id}/messages", params=params)
    return cast(Page, expect(answer, 200))


def whole_history(client: ParlourClient, channel_id: str, limit: int = 200) -> list[FullMessage]:
    """Every retained message of the channel, oldest first, paging back from the newest."""
    found: list[FullMessage] = []
    page = history(client, channel_id, limit=limit)
    found[:0] = page["messages"]
    while page["older"]:
        page = history(client, channel_id, before=found[0]["seq"], limit=limit)
        found[:0] = page["messages"]
    return found
