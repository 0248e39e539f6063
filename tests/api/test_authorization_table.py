"""The authorization audit of revision 2: every route by every kind of caller, an exact table
(tracker issues 11 and 13).

Each row is one request to one route of the server's route table (src/parlour/http/routes.py),
with a valid body, made by each of these callers in turn:

- **owner**: a member (role `member`) who owns what the request touches: sent the message,
  added the reaction, issued the invitation, is the user named in the path, made the private
  channel;
- **member**: another member of the private channel (or the direct conversation), who owns
  nothing of it;
- **admin**: the setup user, an admin, and a member of the private channel and conversation;
- **outsider**: a member who is not in the private channel;
- **outside admin**: an admin who is not in the private channel ("admins are no exception",
  docs/api/channels-and-messages.md);
- **removed**: a member of the private channel until an admin removed them;
- **deactivated**: the old cookie of a member of the channel, taken before an admin
  deactivated them (docs/api/members.md: every session revoked at once);
- **no cookie**.

Each cell states the exact status the docs require, following their order of checks
(docs/api/errors.md, "Which error wins": … 401 → 415 → 400 → 404 → 403 → 409); an error is
also checked to be a problem document. Rows that name a private channel, its messages or
their reactions answer 404, never 403, to whoever cannot see it. Every cell gets fresh
resources of its own (a new channel, message, invitation…), so cells cannot disturb each
other, and a cell that changes a caller (a password, a name, a role) is put back or noted.

A row fails with the whole row side by side (wanted, got, and the detail of each wrong
answer), so one run shows every wrong cell of it. `test_the_table_covers_every_route` makes
a route added to the route table without a row here fail, so no endpoint escapes the audit.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import ServerProcess
from parlour.http.routes import methods_by_path
from parlour_client import (
    OWNER_NAME,
    OWNER_PASSWORD,
    UNKNOWN_CHANNEL,
    UNKNOWN_RESET,
    UNKNOWN_USER,
    ParlourClient,
    assert_problem,
    fresh_name,
    invite_user,
    password_for,
    reaction_path,
)

CALLERS = (
    "owner",
    "member",
    "admin",
    "outsider",
    "outside admin",
    "removed",
    "deactivated",
    "no cookie",
)
NAMES = {
    "owner": "Olive",
    "member": "Mark",
    "outsider": "Nina",
    "outside admin": "Adam",
    "removed": "Rita",
    "deactivated": "Dora",
}
# Who sees a private channel of a scene, or the direct conversation (with a session).
SEES_PRIVATE = {"owner", "member", "admin"}
INVITE_READERS = {"owner", "admin", "outside admin"}


@dataclass
class Person:
    id: str
    name: str
    password: str
    token: str
    """A live session, except the deactivated member's: revoked by the deactivation."""


@dataclass
class World:
    """One server, its people (the callers, plus Vic and Fay: users who are no caller), and
    what was made before the deactivation: the deactivated member's invitation and reset
    link, and a direct conversation of owner, member, admin and the deactivated member."""

    server: ServerProcess
    people: dict[str, Person] = field(default_factory=dict)
    direct: str = ""
    dead_invite: str = ""
    dead_reset: str = ""
    _helpers: dict[str, ParlourClient] = field(default_factory=dict)

    def id(self, who: str) -> str:
        """The caller's user id; the owner's for "no cookie" (who has none)."""
        return self.people["owner" if who == "no cookie" else who].id

    def as_(self, who: str) -> ParlourClient:
        """A client with `who`'s session, for preparing a cell (not for the cell itself)."""
        person = self.people[who]
        helper = self._helpers.get(who)
        if helper is None or helper.headers.get("cookie") != f"identity={person.token}":
            helper = self.server.client(token=person.token)
            self._helpers[who] = helper
        return helper

    def log_in_again(self, who: str) -> None:
        """After a cell ended this person's session (a deactivation, say)."""
        person = self.people[who]
        c = self.server.client()
        c.log_in(person.name, person.password)
        person.token = c.token

    def fresh_session(self, who: str) -> str:
        person = self.people[who]
        c = self.server.client()
        c.log_in(person.name, person.password)
        return c.token

    # --- scenes: fresh resources for one cell ---------------------------------------------

    def channel(
        self, kind: str, who: str, while_a_member: Callable[[str], object] | None = None
    ) -> str:
        """A new public or private channel made by the owner, or the direct conversation.

        A private one has the owner, member, admin, Vic and (removed by the admin) the
        removed member; in the deactivated member's cell, that member too (reactivated for
        the moment it takes to add them: their old cookie stays revoked). `while_a_member`
        runs on a new private channel before the removed member is removed from it."""
        owner = self.as_("owner")
        if kind == "public":
            return str(owner.create_channel(fresh_name("public"))["id"])
        if kind == "direct":
            return self.direct
        members = [self.people[p].id for p in ("member", "admin", "removed", "vic")]
        channel = str(owner.create_private_channel(fresh_name("private"), members)["id"])
        if while_a_member is not None:
            while_a_member(channel)
        admin = self.as_("admin")
        admin.remove_member(channel, self.people["removed"].id)
        if who == "deactivated":
            dora = self.people["deactivated"].id
            admin.reactivate(dora)
            owner.add_member(channel, dora)
            admin.deactivate(dora)
        return channel

    def message(self, kind: str, who: str) -> dict[str, Any]:
        """A new message of the owner's (with a word of its own, for search) in a scene."""
        channel = self.channel(kind, who)
        word = "w" + secrets.token_hex(6)
        return dict(self.as_("owner").say(channel, f"a note {word}"))

    def can_act(self, who: str, kind: str) -> bool:
        """Whether this caller, with a session, sees a scene of this kind."""
        if who in ("deactivated", "no cookie"):
            return False
        return kind == "public" or who in SEES_PRIVATE


@dataclass(frozen=True)
class Call:
    path: str
    json: Any = None
    ctx: dict[str, Any] = field(default_factory=dict)
    token: str | None = None
    """A session to make the call with instead of the caller's own (one the call ends)."""


Prepare = Callable[[World, str], Call]
Check = Callable[[World, str, Call, httpx.Response], str | None]
After = Callable[[World, str, Call, httpx.Response], None]


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    """The route as the route table spells it (routes.methods_by_path)."""
    prepare: Prepare
    want: tuple[int, int, int, int, int, int, int, int]
    """One status per caller, in the order of CALLERS."""
    check: Check | None = None
    """What else a successful answer must show (nothing leaked, say): a complaint or None."""
    after: After | None = None
    """Puts back what the cell changed for the cells that follow."""


def world_fixture(server: ServerProcess) -> World:
    w = World(server)
    alice = server.set_up(OWNER_NAME, OWNER_PASSWORD)
    me = alice.me()
    w.people["admin"] = Person(me["id"], OWNER_NAME, OWNER_PASSWORD, alice.token)
    for who, name in [*NAMES.items(), ("vic", "Vic"), ("fay", "Fay")]:
        c = invite_user(server, alice, name)
        w.people[who] = Person(c.me()["id"], name, password_for(name), c.token)
    alice.change_user(w.people["outside admin"].id, role="admin")
    dora = w.as_("deactivated")
    w.dead_invite = dora.invite()["id"]
    w.dead_reset = alice.make_reset_link(w.people["deactivated"].id)["id"]
    others = [w.people[p].id for p in ("member", "admin", "deactivated")]
    w.direct = str(w.as_("owner").open_direct(others, status=202)["id"])
    alice.deactivate(w.people["deactivated"].id)
    return w


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = ServerProcess(tmp_path_factory.mktemp("authorization") / "parlour.db").start()
    try:
        yield world_fixture(server)
    finally:
        server.close()


# --- helpers for the rows ------------------------------------------------------------------


def p256dh() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def subscription() -> dict[str, Any]:
    auth = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")
    return {
        "endpoint": f"https://push.example.net/{secrets.token_hex(8)}",
        "keys": {"p256dh": p256dh(), "auth": auth},
    }


def an_invite(w: World, who: str) -> Call:
    invite_id = w.as_("owner").invite()["id"]
    return Call(f"/api/invite/{invite_id}", ctx={"invite": invite_id})


def own_password(w: World, who: str) -> Call:
    current = w.people["owner" if who == "no cookie" else who].password
    new = fresh_name("password")
    return Call("/api/password", {"password": current, "to": new}, ctx={"new": new})


def note_password(w: World, who: str, call: Call, r: httpx.Response) -> None:
    if r.status_code == 200:
        w.people[who].password = call.ctx["new"]


def note_name(whose: str | None) -> After:
    def after(w: World, who: str, call: Call, r: httpx.Response) -> None:
        if r.status_code == 202:
            w.people[whose or who].name = r.json()["name"]

    return after


def demote_owner(w: World, who: str, call: Call, r: httpx.Response) -> None:
    if r.status_code == 202:
        w.as_("admin").change_user(w.people["owner"].id, role="member")


def reactivate_owner(w: World, who: str, call: Call, r: httpx.Response) -> None:
    if r.status_code == 202:
        w.as_("admin").reactivate(w.people["owner"].id)
        w.log_in_again("owner")


def deactivate_again(w: World, who: str, call: Call, r: httpx.Response) -> None:
    if r.status_code == 202:
        w.as_("admin").deactivate(w.people["deactivated"].id)


def unsubscribe(w: World, who: str, call: Call, r: httpx.Response) -> None:
    if r.status_code == 204:
        answer = w.as_(who).request("DELETE", "/api/push", json={"endpoint": call.json["endpoint"]})
        assert answer.status_code == 204, answer.text


def logout_call(w: World, who: str) -> Call:
    """Logging out ends the session it is made with: a session of its own for this cell."""
    if who in ("deactivated", "no cookie"):
        return Call("/api/auth/logout")
    return Call("/api/auth/logout", token=w.fresh_session(who))


def user_call(whose: str, body: Callable[[], dict[str, Any]]) -> Prepare:
    return lambda w, who: Call(f"/api/users/{w.people[whose].id}", body())


def reset_of(whose: str) -> Prepare:
    def prepare(w: World, who: str) -> Call:
        reset = w.as_("admin").make_reset_link(w.people[whose].id)["id"]
        return Call(f"/api/reset/{reset}", {"password": fresh_name("password")})

    return prepare


def direct_call(members: Callable[[World, str], list[str]], made_first: bool) -> Prepare:
    def prepare(w: World, who: str) -> Call:
        body = {"members": members(w, who)}
        if made_first and w.can_act(who, "public"):
            w.as_(who).open_direct(body["members"])
        return Call("/api/direct", body)

    return prepare


def in_channel(kind: str, tail: str = "", body: Any = None) -> Prepare:
    def prepare(w: World, who: str) -> Call:
        channel = w.channel(kind, who)
        return Call(f"/api/channels/{channel}{tail}", body, ctx={"channel": channel})

    return prepare


def with_message(kind: str, make: Callable[[World, str, dict[str, Any]], Call]) -> Prepare:
    return lambda w, who: make(w, who, w.message(kind, who))


def read_call(kind: str) -> Prepare:
    return with_message(
        kind,
        lambda w, who, m: Call(f"/api/channels/{m['channel']}/read", {"seq": m["seq"]}),
    )


def history_call(kind: str) -> Prepare:
    return with_message(kind, lambda w, who, m: Call(f"/api/channels/{m['channel']}/messages"))


def search_call(kind: str, *, narrowed: bool) -> Prepare:
    def make(w: World, who: str, m: dict[str, Any]) -> Call:
        word = m["body"].split()[-1]
        where = f"&channel={m['channel']}" if narrowed else ""
        return Call(f"/api/search?q={word}{where}", ctx={"message": m["id"]})

    return with_message(kind, make)


def react_first(kind: str, reactor: str | None) -> Prepare:
    """A reaction added by `reactor` (None: the caller, when they can) to take back."""

    def make(w: World, who: str, m: dict[str, Any]) -> Call:
        by = reactor or who
        if by == who and not w.can_act(who, kind):
            by = "owner"  # the caller cannot react: the reaction is someone else's
        w.as_(by).react(m["id"], "🎉")
        return Call(reaction_path(m["id"], "🎉"))

    return with_message(kind, make)


def callers_own(tail: str = "", body: Any = None, *, reaction: bool = False) -> Prepare:
    """The caller's own message in a new private channel, with the caller's own reaction,
    both made while they were a member (the removed member's too, before the removal); the
    owner's, for callers who never could send there."""

    def prepare(w: World, who: str) -> Call:
        sender = who if who in (*SEES_PRIVATE, "removed") else "owner"
        sent: dict[str, Any] = {}

        def send_and_react(channel: str) -> None:
            sent.update(w.as_(sender).say(channel, "my own words"))
            w.as_(sender).react(sent["id"], "🎉")

        w.channel("private", who, send_and_react)
        if reaction:
            return Call(reaction_path(sent["id"], "🎉"))
        return Call(f"/api/messages/{sent['id']}{tail}", body)

    return prepare


def member_path(kind: str, target: Callable[[World, str], str]) -> Prepare:
    def prepare(w: World, who: str) -> Call:
        channel = w.channel(kind, who)
        return Call(f"/api/channels/{channel}/members/{target(w, who)}")

    return prepare


def a_channel_holding_a_message(kind: str) -> Prepare:
    return with_message(kind, lambda w, who, m: Call(f"/api/channels/{m['channel']}"))


def message_call(kind: str, tail: str = "", body: Any = None) -> Prepare:
    return with_message(kind, lambda w, who, m: Call(f"/api/messages/{m['id']}{tail}", body))


# --- what a successful answer must show ----------------------------------------------------


def boot_shows_the_channel_to_its_members(
    w: World, who: str, call: Call, r: httpx.Response
) -> str | None:
    shown = call.ctx["channel"] in [c["id"] for c in r.json()["channels"]]
    if shown != (who in SEES_PRIVATE):
        return f"boot {'shows' if shown else 'leaves out'} the private channel"
    return None


def search_finds_only_what_the_caller_sees(
    w: World, who: str, call: Call, r: httpx.Response
) -> str | None:
    found = call.ctx["message"] in [x["message"]["id"] for x in r.json()["results"]]
    if found != (who in SEES_PRIVATE):
        return f"search {'finds' if found else 'misses'} the private message"
    return None


def search_finds_the_public_message(
    w: World, who: str, call: Call, r: httpx.Response
) -> str | None:
    found = call.ctx["message"] in [x["message"]["id"] for x in r.json()["results"]]
    return None if found else "search misses the public message"


def invites_listed_to_issuer_and_admins(
    w: World, who: str, call: Call, r: httpx.Response
) -> str | None:
    listed = call.ctx["invite"] in [i["id"] for i in r.json()["invites"]]
    if listed != (who in INVITE_READERS):
        return f"the owner's invitation is {'listed' if listed else 'missing'}"
    return None


def list_invites(w: World, who: str) -> Call:
    return Call("/api/invites", ctx=an_invite(w, who).ctx)


def boot_with_a_private_channel(w: World, who: str) -> Call:
    return Call("/api/boot?messages=0", ctx={"channel": w.channel("private", who)})


# --- the table -----------------------------------------------------------------------------

X = UNKNOWN_CHANNEL
# fmt: off
#          owner member admin outsider outside-admin removed deactivated no-cookie
ALL_200 = (200, 200, 200, 200, 200, 200, 200, 200)
USERS = (200, 200, 200, 200, 200, 200, 401, 401)
USERS_202 = (202, 202, 202, 202, 202, 202, 401, 401)
USERS_204 = (204, 204, 204, 204, 204, 204, 401, 401)
MEMBERS_200 = (200, 200, 200, 404, 404, 404, 401, 401)
MEMBERS_202 = (202, 202, 202, 404, 404, 404, 401, 401)
ADMINS_ONLY = (403, 403, 202, 403, 202, 403, 401, 401)
MEMBERS_409 = (409, 409, 409, 404, 404, 404, 401, 401)

ROWS: dict[str, Row] = {
    # Setup and sessions (docs/api/setup.md, docs/api/sessions.md)
    "setup, once done": Row("POST", "/api/setup",
        lambda w, who: Call("/api/setup", {"name": fresh_name(), "password": OWNER_PASSWORD}),
        (409, 409, 409, 409, 409, 409, 409, 409)),
    "log in (as Vic)": Row("POST", "/api/auth/login",
        lambda w, who: Call("/api/auth/login",
                            {"name": w.people["vic"].name, "password": w.people["vic"].password}),
        ALL_200),
    "log out": Row("POST", "/api/auth/logout", logout_call,
        (204, 204, 204, 204, 204, 204, 204, 204)),
    "change one's password": Row("POST", "/api/password", own_password,
        USERS, after=note_password),
    # Invitations (docs/api/invitations.md)
    "issue an invitation": Row("POST", "/api/invite",
        lambda w, who: Call("/api/invite", {}), USERS),
    "list invitations": Row("GET", "/api/invites", list_invites,
        USERS, check=invites_listed_to_issuer_and_admins),
    "look at the owner's invitation": Row("GET", "/api/invite/{invite_id}", an_invite,
        ALL_200),
    "accept the owner's invitation": Row("POST", "/api/invite/{invite_id}",
        lambda w, who: Call(an_invite(w, who).path,
                            {"name": fresh_name(), "password": OWNER_PASSWORD}),
        ALL_200),
    "revoke the owner's invitation": Row("DELETE", "/api/invite/{invite_id}", an_invite,
        (204, 403, 204, 403, 204, 403, 401, 401)),
    "look at the deactivated member's invitation": Row("GET", "/api/invite/{invite_id}",
        lambda w, who: Call(f"/api/invite/{w.dead_invite}"),
        (404, 404, 404, 404, 404, 404, 404, 404)),
    "accept the deactivated member's invitation": Row("POST", "/api/invite/{invite_id}",
        lambda w, who: Call(f"/api/invite/{w.dead_invite}",
                            {"name": fresh_name(), "password": OWNER_PASSWORD}),
        (404, 404, 404, 404, 404, 404, 404, 404)),
    "revoke the deactivated member's invitation": Row("DELETE", "/api/invite/{invite_id}",
        lambda w, who: Call(f"/api/invite/{w.dead_invite}"),
        (404, 404, 404, 404, 404, 404, 401, 401)),
    # Members (docs/api/members.md)
    "rename the owner": Row("POST", "/api/users/{user_id}",
        user_call("owner", lambda: {"name": fresh_name()}),
        (202, 403, 202, 403, 202, 403, 401, 401), after=note_name("owner")),
    "rename oneself": Row("POST", "/api/users/{user_id}",
        lambda w, who: Call(f"/api/users/{w.id(who)}", {"name": fresh_name()}),
        USERS_202, after=note_name(None)),
    "make the owner an admin": Row("POST", "/api/users/{user_id}",
        user_call("owner", lambda: {"role": "admin"}), ADMINS_ONLY, after=demote_owner),
    "deactivate the owner": Row("POST", "/api/users/{user_id}",
        user_call("owner", lambda: {"active": False}), ADMINS_ONLY, after=reactivate_owner),
    "reactivate the deactivated member": Row("POST", "/api/users/{user_id}",
        user_call("deactivated", lambda: {"active": True}), ADMINS_ONLY,
        after=deactivate_again),
    "change an unknown user": Row("POST", "/api/users/{user_id}",
        lambda w, who: Call(f"/api/users/{UNKNOWN_USER}", {"name": fresh_name()}),
        (404, 404, 404, 404, 404, 404, 401, 401)),
    "make a reset link for the owner": Row("POST", "/api/users/{user_id}/reset",
        lambda w, who: Call(f"/api/users/{w.people['owner'].id}/reset"),
        (403, 403, 200, 403, 200, 403, 401, 401)),
    "make a reset link for the deactivated member": Row("POST", "/api/users/{user_id}/reset",
        lambda w, who: Call(f"/api/users/{w.people['deactivated'].id}/reset"),
        (403, 403, 409, 403, 409, 403, 401, 401)),
    "look at the owner's reset link": Row("GET", "/api/reset/{reset_id}",
        lambda w, who: Call(reset_of("owner")(w, who).path), ALL_200),
    # Using a link ends every other session of its user: Vic's, who is no caller.
    "use Vic's reset link": Row("POST", "/api/reset/{reset_id}", reset_of("vic"), ALL_200),
    "look at the deactivated member's reset link": Row("GET", "/api/reset/{reset_id}",
        lambda w, who: Call(f"/api/reset/{w.dead_reset}"),
        (404, 404, 404, 404, 404, 404, 404, 404)),
    "use the deactivated member's reset link": Row("POST", "/api/reset/{reset_id}",
        lambda w, who: Call(f"/api/reset/{w.dead_reset}", {"password": fresh_name("pw")}),
        (404, 404, 404, 404, 404, 404, 404, 404)),
    # Boot, events, push (docs/api/boot.md, docs/api/events.md, docs/api/push.md)
    "boot": Row("GET", "/api/boot", boot_with_a_private_channel,
        USERS, check=boot_shows_the_channel_to_its_members),
    "event stream": Row("GET", "/api/events",
        lambda w, who: Call("/api/events?resume_point=0"), USERS),
    "push key": Row("GET", "/api/push", lambda w, who: Call("/api/push"), USERS),
    "subscribe to push": Row("POST", "/api/push",
        lambda w, who: Call("/api/push", subscription()), USERS_204, after=unsubscribe),
    "unsubscribe from push": Row("DELETE", "/api/push",
        lambda w, who: Call("/api/push", {"endpoint": subscription()["endpoint"]}), USERS_204),
    # Creating channels (docs/api/channels-and-messages.md)
    "create a public channel": Row("POST", "/api/channels",
        lambda w, who: Call("/api/channels", {"name": fresh_name("public")}), USERS_202),
    "create a private channel": Row("POST", "/api/channels",
        lambda w, who: Call("/api/channels", {"name": fresh_name("private"), "kind": "private",
                                              "members": [w.people["vic"].id]}),
        USERS_202),
    "open a new direct conversation": Row("POST", "/api/direct",
        direct_call(lambda w, who: [w.people["fay"].id], made_first=False), USERS_202),
    "open an existing direct conversation": Row("POST", "/api/direct",
        direct_call(lambda w, who: [w.people["vic"].id], made_first=True), USERS),
    "open a direct conversation with a deactivated user": Row("POST", "/api/direct",
        direct_call(lambda w, who: [w.people["deactivated"].id], made_first=False),
        (400, 400, 400, 400, 400, 400, 401, 401)),
    # What the removed member made while a member is theirs no more to touch: 404.
    "edit one's own message (private)": Row("POST", "/api/messages/{message_id}",
        callers_own("", {"body": "edited"}), MEMBERS_202),
    "take back one's own reaction (private)": Row(
        "DELETE", "/api/messages/{message_id}/reactions/{emoji:path}", callers_own(reaction=True),
        MEMBERS_202),
    "delete one's own message (private)": Row("DELETE", "/api/messages/{message_id}",
        callers_own(), MEMBERS_202),
    "send to an unknown channel": Row("POST", "/api/channels/{channel_id}",
        lambda w, who: Call(f"/api/channels/{X}", {"body": "hello"}),
        (404, 404, 404, 404, 404, 404, 401, 401)),
    # Search (docs/api/search.md)
    "search everywhere (a private message)": Row("GET", "/api/search",
        search_call("private", narrowed=False), USERS,
        check=search_finds_only_what_the_caller_sees),
    "search everywhere (a public message)": Row("GET", "/api/search",
        search_call("public", narrowed=False), USERS, check=search_finds_the_public_message),
    # The web client's pages and files: no login, nothing to hide (docs/api/index.md)
    "openapi": Row("GET", "/api/openapi.json", lambda w, who: Call("/api/openapi.json"),
        ALL_200),
    "the page": Row("GET", "/", lambda w, who: Call("/"), ALL_200),
    "an invitation's page": Row("GET", "/invite/{invite_id}",
        lambda w, who: Call("/" + an_invite(w, who).path.removeprefix("/api/")), ALL_200),
    "a reset link's page": Row("GET", "/reset/{reset_id}",
        lambda w, who: Call(f"/reset/{UNKNOWN_RESET}"), ALL_200),
    "a private channel's page": Row("GET", "/channels/{channel_id}",
        lambda w, who: Call(f"/channels/{w.channel('private', who)}"), ALL_200),
    "the service worker": Row("GET", "/sw.js", lambda w, who: Call("/sw.js"), ALL_200),
    "a static file": Row("GET", "/static/{file}", lambda w, who: Call("/static/app.js"),
        ALL_200),
}

# Channel rows, once per kind: a new public channel, a new private channel (the removed
# member removed from it), the direct conversation (the removed member never in it).
#          owner member admin outsider outside-admin removed deactivated no-cookie
BY_KIND: dict[str, tuple[str, str, Callable[[str], Prepare], dict[str, tuple[int, ...]]]] = {
    "send a message": ("POST", "/api/channels/{channel_id}",
        lambda k: in_channel(k, "", {"body": "hello"}),
        {"public": USERS_202, "private": MEMBERS_202, "direct": MEMBERS_202}),
    "move one's read position": ("POST", "/api/channels/{channel_id}/read", read_call,
        {"public": USERS_202, "private": MEMBERS_202, "direct": MEMBERS_202}),
    "set one's notification level": ("POST", "/api/channels/{channel_id}/notify",
        lambda k: in_channel(k, "/notify", {"level": "all"}),
        {"public": USERS_202, "private": MEMBERS_202, "direct": MEMBERS_202}),
    "read history": ("GET", "/api/channels/{channel_id}/messages", history_call,
        {"public": USERS, "private": MEMBERS_200, "direct": MEMBERS_200}),
    "search in the channel": ("GET", "/api/search",
        lambda k: search_call(k, narrowed=True),
        {"public": USERS, "private": MEMBERS_200, "direct": MEMBERS_200}),
    "add Fay": ("POST", "/api/channels/{channel_id}/members",
        lambda k: lambda w, who: Call(f"/api/channels/{w.channel(k, who)}/members",
                                      {"user": w.people["fay"].id}),
        {"public": (409, 409, 409, 409, 409, 409, 401, 401), "private": MEMBERS_202,
         "direct": MEMBERS_409}),
    "leave": ("DELETE", "/api/channels/{channel_id}/members/{user_id}",
        lambda k: member_path(k, lambda w, who: w.id(who)),
        {"public": (409, 409, 409, 409, 409, 409, 401, 401), "private": MEMBERS_202,
         "direct": MEMBERS_409}),
    "remove Vic": ("DELETE", "/api/channels/{channel_id}/members/{user_id}",
        lambda k: member_path(k, lambda w, who: w.people["vic"].id),
        {"private": (403, 403, 202, 404, 404, 404, 401, 401)}),
    "remove the deactivated member": ("DELETE", "/api/channels/{channel_id}/members/{user_id}",
        lambda k: member_path(k, lambda w, who: w.people["deactivated"].id),
        {"direct": (403, 403, 409, 404, 404, 404, 401, 401)}),
    "delete the empty channel": ("DELETE", "/api/channels/{channel_id}",
        lambda k: in_channel(k),
        {"public": USERS_202, "private": MEMBERS_202, "direct": MEMBERS_409}),
    "delete the channel holding a message": ("DELETE", "/api/channels/{channel_id}",
        a_channel_holding_a_message,
        {"public": (409, 409, 202, 409, 202, 409, 401, 401),
         "private": (409, 409, 202, 404, 404, 404, 401, 401)}),
    "edit the owner's message": ("POST", "/api/messages/{message_id}",
        lambda k: message_call(k, "", {"body": "edited"}),
        {"public": (202, 403, 403, 403, 403, 403, 401, 401),
         "private": (202, 403, 403, 404, 404, 404, 401, 401),
         "direct": (202, 403, 403, 404, 404, 404, 401, 401)}),
    "react to the owner's message": ("POST", "/api/messages/{message_id}/reactions",
        lambda k: message_call(k, "/reactions", {"emoji": "+1"}),
        {"public": USERS_202, "private": MEMBERS_202, "direct": MEMBERS_202}),
    "take back one's reaction": ("DELETE", "/api/messages/{message_id}/reactions/{emoji:path}",
        lambda k: react_first(k, None),
        {"public": USERS_202, "private": MEMBERS_202, "direct": MEMBERS_202}),
    "take back the owner's reaction": (
        "DELETE", "/api/messages/{message_id}/reactions/{emoji:path}",
        lambda k: react_first(k, "owner"),
        {"public": (202, 404, 404, 404, 404, 404, 401, 401),
         "private": (202, 404, 404, 404, 404, 404, 401, 401),
         "direct": (202, 404, 404, 404, 404, 404, 401, 401)}),
    "delete the owner's message": ("DELETE", "/api/messages/{message_id}",
        lambda k: message_call(k),
        {"public": (202, 403, 202, 403, 202, 403, 401, 401),
         "private": (202, 403, 202, 404, 404, 404, 401, 401),
         "direct": (202, 403, 202, 404, 404, 404, 401, 401)}),
}
# fmt: on

for what, (method, route, prepare_for, wants) in BY_KIND.items():
    for kind, want in wants.items():
        assert len(want) == len(CALLERS)
        ROWS[f"{what} ({kind})"] = Row(method, route, prepare_for(kind), want)  # type: ignore[arg-type]


# Cells where the server answers otherwise than the docs say: (row, caller) -> what it
# answers, and why that is wrong. The test holds the server to that answer, so a fix makes
# the cell fail (then delete its entry here) and nothing else about it changes unnoticed.
# Cells where the server is known to differ from the docs, with why: none today.
KNOWN: dict[tuple[str, str], tuple[int, str]] = {}


# --- running a row -------------------------------------------------------------------------


def send(w: World, row: Row, who: str, call: Call) -> httpx.Response:
    token = call.token
    if token is None and who != "no cookie":
        token = w.people[who].token
    with ParlourClient(w.server.url, token=token) as client:
        if row.route == "/api/events":
            headers = {"Accept": "text/event-stream"}
            with client.stream("GET", call.path, headers=headers) as r:
                if r.status_code != 200:
                    r.read()
                return r
        r = client.request(row.method, call.path, json=call.json)
        r.read()
        return r


def run_cell(w: World, row: Row, who: str) -> tuple[int, str]:
    """The status a caller gets, and a note when the answer is wrong in another way."""
    call = row.prepare(w, who)
    assert route_pattern(row.route).fullmatch(call.path.split("?")[0]), (row.route, call.path)
    r = send(w, row, who, call)
    note = ""
    if r.status_code >= 400:
        try:
            note = assert_problem(r, r.status_code)["detail"]
        except AssertionError as e:
            note = f"not a problem document: {e}"
    elif row.check is not None and r.status_code in (200, 202):
        note = row.check(w, who, call, r) or ""
    if row.after is not None:
        row.after(w, who, call, r)
    return r.status_code, note


@pytest.mark.parametrize("what", list(ROWS))
def test_every_route_answers_each_kind_of_caller_as_documented(world: World, what: str) -> None:
    row = ROWS[what]
    want = {
        who: KNOWN.get((what, who), (documented, ""))[0]
        for who, documented in zip(CALLERS, row.want, strict=True)
    }
    got = {who: run_cell(world, row, who) for who in CALLERS}
    wrong = [
        who
        for who in CALLERS
        if got[who][0] != want[who]
        or (got[who][0] < 400 and got[who][1])  # a check of the answer failed
        or got[who][1].startswith("not a problem document")
    ]
    if wrong:
        lines = [f"{row.method} {row.route}: {what}", f"  {'caller':<14} want  got"]
        for who in CALLERS:
            status, note = got[who]
            known = " (a known deviation: see KNOWN)" if (what, who) in KNOWN else ""
            mark = f"  <-- {note}{known}" if who in wrong else ""
            lines.append(f"  {who:<14} {want[who]}   {status}{mark}")
        pytest.fail("\n".join(lines), pytrace=False)


def route_pattern(route: str) -> re.Pattern[str]:
    """The paths a route template matches (`{x}`: one segment; `{x:path}`: the rest)."""
    pattern = re.escape(route)
    pattern = re.sub(r"\\\{\w+:path\\\}", ".+", pattern)
    pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", pattern)
    return re.compile(pattern)


def test_the_table_covers_every_route() -> None:
    """A route added to the route table without a row here fails this test (HEAD is GET's
    handler, and answers as GET does: docs/api/errors.md)."""
    served = {
        (method, path)
        for path, methods in methods_by_path().items()
        for method in methods
        if method != "HEAD"
    }
    audited = {(row.method, row.route) for row in ROWS.values()}
    assert served - audited == set(), "routes no row of the audit covers"
    assert audited - served == set(), "rows naming routes the server does not have"
