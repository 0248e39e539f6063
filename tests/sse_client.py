"""Reading parlour's event stream in black-box tests: parsed events, raw framing, stalls.

`EventStream` parses SSE with httpx-sse on a background thread, so a test can wait for
events with a deadline and notice when the server ends the stream. `RawStream` hands over
the raw lines for checking framing (`id:`, `data:`, `event: heartbeat`, `retry:`).
`StalledReader` opens a stream on a plain socket and never reads from it. `apply_event` and
`world` are what a client following the stream holds. The other API calls are methods of
tests/parlour_client.py's client.
"""

from __future__ import annotations

import contextlib
import copy
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from httpx_sse import EventSource, ServerSentEvent

T = TypeVar("T")

EVENTS_PATH = "/api/events"


@dataclass(frozen=True)
class Event:
    """One parlour event as received: its SSE id (the sequence) and its JSON data."""

    id: int
    data: dict[str, Any]

    @property
    def kind(self) -> tuple[str, str]:
        return (str(self.data.get("type")), str(self.data.get("event")))


@dataclass(frozen=True)
class Heartbeat:
    """An `event: heartbeat` message."""

    data: str


@dataclass(frozen=True)
class Ended:
    """The stream ended; `error` is set when it ended by an exception rather than cleanly."""

    error: BaseException | None = None


class StreamTimeout(AssertionError):
    """Nothing (or not what we waited for) arrived before the deadline."""


def request_args(
    resume_point: int | str | None, last_event_id: str | None
) -> tuple[dict[str, str], dict[str, str]]:
    params: dict[str, str] = {}
    headers: dict[str, str] = {"Accept": "text/event-stream"}
    if resume_point is not None:
        params["resume_point"] = str(resume_point)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    return params, headers


class _Reader(Generic[T]):
    """An open event stream whose items a background thread puts on a queue."""

    def __init__(
        self,
        base_url: str,
        cookies: httpx.Cookies,
        *,
        resume_point: int | str | None = None,
        last_event_id: str | None = None,
        read_timeout: float | None = 60.0,
    ) -> None:
        params, headers = request_args(resume_point, last_event_id)
        # A client of its own: the stream holds one connection for its whole life, and a
        # copy of the cookie jar means it was opened with the same session token.
        self._client = httpx.Client(
            base_url=base_url,
            cookies=cookies,
            timeout=httpx.Timeout(10.0, read=read_timeout),
        )
        self._items: queue.Queue[T | Ended] = queue.Queue()
        self._ended: Ended | None = None
        self._closing = False
        self._context = self._client.stream("GET", EVENTS_PATH, params=params, headers=headers)
        try:
            self.response = self._context.__enter__()
        except BaseException:
            self._client.close()
            raise
        self.status_code = self.response.status_code
        self.headers = self.response.headers
        self._thread: threading.Thread | None = None
        if self.status_code == 200:
            self._thread = threading.Thread(target=self._pump, daemon=True)
            self._thread.start()
        else:
            self.response.read()
            self._ended = Ended()

    def _items_from(self, response: httpx.Response) -> Iterator[T]:
        raise NotImplementedError

    def _pump(self) -> None:
        try:
            for item in self._items_from(self.response):
                self._items.put(item)
        except BaseException as e:  # any ending is reported to the test
            self._items.put(Ended(None if self._closing else e))
        else:
            self._items.put(Ended())

    def body(self) -> Any:
        """The JSON body of a non-200 answer."""
        return self.response.json()

    def get(self, timeout: float) -> T | Ended:
        """The next item, or Ended; raises StreamTimeout if nothing arrives in time."""
        if self._ended is not None:
            return self._ended
        try:
            item = self._items.get(timeout=max(0.0, timeout))
        except queue.Empty:
            raise StreamTimeout(f"nothing arrived on the stream within {timeout:.1f} s") from None
        if isinstance(item, Ended):
            self._ended = item
        return item

    def wait_ended(self, timeout: float) -> list[T]:
        """Wait for the server to end the stream; return what arrived before the end."""
        deadline = time.monotonic() + timeout
        seen: list[T] = []
        while True:
            try:
                item = self.get(deadline - time.monotonic())
            except StreamTimeout:
                raise StreamTimeout(f"the stream was still open after {timeout:.1f} s") from None
            if isinstance(item, Ended):
                return seen
            seen.append(item)

    def arrives(self, wanted: Callable[[T], bool], timeout: float) -> bool:
        """Whether an item for which `wanted` is true arrives within `timeout`, before the
        stream ends (what arrives before it is passed over)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self.get(deadline - time.monotonic())
            except StreamTimeout:
                return False
            if isinstance(item, Ended):
                return False
            if wanted(item):
                return True

    @property
    def ended(self) -> bool:
        return self._ended is not None

    def close(self) -> None:
        """Disconnect abruptly, as a client that goes away would."""
        self._closing = True
        stream = self.response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(10)
        with contextlib.suppress(Exception):
            self._context.__exit__(None, None, None)
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse(sse: ServerSentEvent) -> Event | Heartbeat | None:
    if sse.event == "heartbeat":
        return Heartbeat(sse.data)
    if sse.event == "message" and sse.data == "" and sse.retry is not None:
        return None  # a block holding only `retry:`
    assert sse.event == "message", f"unexpected SSE event type {sse.event!r}"
    assert sse.id, f"event without an id: {sse!r}"
    assert sse.id.isdigit(), f"event without a numeric id: {sse!r}"
    data = json.loads(sse.data)
    assert isinstance(data, dict), f"event data is not a JSON object: {sse.data!r}"
    return Event(int(sse.id), data)


class EventStream(_Reader[Event | Heartbeat]):
    """An open `/api/events` stream, parsed with httpx-sse."""

    def _items_from(self, response: httpx.Response) -> Iterator[Event | Heartbeat]:
        for sse in EventSource(response).iter_sse():
            item = _parse(sse)
            if item is not None:
                yield item

    def next_event(self, timeout: float) -> Event:
        """The next event, skipping heartbeats; fails if the stream ends or stays silent."""
        deadline = time.monotonic() + timeout
        while True:
            item = self.get(deadline - time.monotonic())
            if isinstance(item, Ended):
                raise AssertionError(f"the stream ended while an event was expected: {item}")
            if isinstance(item, Event):
                return item

    def events_until(self, done: Callable[[Event], bool], timeout: float) -> list[Event]:
        """Events up to and including the first for which `done` is true."""
        deadline = time.monotonic() + timeout
        seen: list[Event] = []
        while True:
            try:
                event = self.next_event(deadline - time.monotonic())
            except StreamTimeout:
                raise StreamTimeout(
                    f"waited {timeout:.1f} s; the stream sent only {[e.id for e in seen]}"
                ) from None
            seen.append(event)
            if done(event):
                return seen

    def events_through(self, sequence: int, timeout: float = 10.0) -> list[Event]:
        """Events up to the first whose id is at least `sequence`."""
        return self.events_until(lambda e: e.id >= sequence, timeout)

    def quiet_events(self, seconds: float) -> list[Event]:
        """Whatever events arrive during the next `seconds` (the stream must stay open)."""
        deadline = time.monotonic() + seconds
        seen: list[Event] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self.get(left)
            except StreamTimeout:
                break
            if isinstance(item, Ended):
                raise AssertionError(f"the stream ended unexpectedly: {item}")
            if isinstance(item, Event):
                seen.append(item)
        return seen


def about(thing_id: str) -> Callable[[Event | Heartbeat], bool]:
    """For `arrives`: whether an item is an event about the user, channel or message with
    this id."""
    return lambda item: isinstance(item, Event) and item.data.get("id") == thing_id


class RawStream(_Reader[str]):
    """An open `/api/events` stream read as raw lines (for checking the framing)."""

    def _items_from(self, response: httpx.Response) -> Iterator[str]:
        yield from response.iter_lines()

    def messages(self, count: int, timeout: float) -> list[list[str]]:
        """The next `count` SSE messages, each its lines without comment lines."""
        deadline = time.monotonic() + timeout
        result: list[list[str]] = []
        block: list[str] = []
        while len(result) < count:
            item = self.get(deadline - time.monotonic())
            if isinstance(item, Ended):
                raise AssertionError(f"the stream ended after {result!r} + {block!r}")
            if item == "":
                if block:
                    result.append(block)
                block = []
            elif not item.startswith(":"):
                block.append(item)
        return result


def open_stream(
    client: httpx.Client,
    resume_point: int | str | None = None,
    *,
    last_event_id: str | None = None,
    read_timeout: float | None = 60.0,
) -> EventStream:
    """Open `/api/events` with the session of `client` (its cookies)."""
    return EventStream(
        str(client.base_url),
        client.cookies,
        resume_point=resume_point,
        last_event_id=last_event_id,
        read_timeout=read_timeout,
    )


def open_raw_stream(client: httpx.Client, resume_point: int | str) -> RawStream:
    return RawStream(str(client.base_url), client.cookies, resume_point=resume_point)


@dataclass
class StalledReader:
    """A client that opens the event stream on a plain socket and then never reads."""

    url: str
    token: str
    resume_point: int
    sock: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # A tiny receive window keeps the unread backlog on the server's side.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect((parts.hostname, parts.port))
        request = (
            f"GET {EVENTS_PATH}?resume_point={self.resume_point} HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\n"
            "Accept: text/event-stream\r\n"
            f"Cookie: identity={self.token}\r\n"
            "\r\n"
        )
        self.sock.sendall(request.encode())

    def drain_until_closed(self, timeout: float) -> tuple[bytes, bool]:
        """Read everything; return (bytes read, whether the server closed the connection)."""
        deadline = time.monotonic() + timeout
        chunks: list[bytes] = []
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(min(left, 1.0))
            try:
                chunk = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            except ConnectionResetError:
                return b"".join(chunks), True
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)
        return b"".join(chunks), False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


HEAD = ("type", "event", "at")


def _body(data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's data without its head: the user, channel or message JSON it carries."""
    return {k: v for k, v in data.items() if k not in HEAD}


def _drop_channel(state: dict[str, Any], channel_id: str) -> None:
    state["channels"] = [c for c in state["channels"] if c["id"] != channel_id]
    state["messages"] = [m for m in state["messages"] if m["channel"] != channel_id]


def _message(state: dict[str, Any], message_id: str) -> dict[str, Any] | None:
    return next((m for m in state["messages"] if m["id"] == message_id), None)


def apply_event(state: dict[str, Any], data: Mapping[str, Any]) -> None:
    """Apply one event to a state made by `world`, as a client following the stream would
    (docs/api/events.md, "The event kinds"). A channel the user joins later arrives without
    its past messages: a client pages them from the history endpoint."""
    kind = (data.get("type"), data.get("event"))
    if kind == ("user", "created"):
        state["users"].append(_body(data))
    elif kind == ("user", "updated"):
        state["users"] = [_body(data) if u["id"] == data["id"] else u for u in state["users"]]
    elif kind == ("channel", "created"):
        state["channels"].append(_body(data))
    elif kind == ("channel", "updated"):
        channel = _body(data)
        if "members" in channel and state.get("me") not in channel["members"]:
            _drop_channel(state, channel["id"])  # the update that removes this user
        elif any(c["id"] == channel["id"] for c in state["channels"]):
            state["channels"] = [
                channel if c["id"] == channel["id"] else c for c in state["channels"]
            ]
        else:  # just added: the channel takes its place in creation order
            state["channels"].append(channel)
            state["channels"].sort(key=lambda c: c["created_at"])
    elif kind == ("channel", "deleted"):
        _drop_channel(state, data["id"])
    elif kind == ("message", "sent"):
        state["messages"].append(_body(data))
    elif kind == ("message", "edited"):
        if (message := _message(state, data["id"])) is not None:
            message.update(body=data["body"], mentions=data["mentions"])
            message["edited_at"] = data["edited_at"]
    elif kind == ("message", "deleted"):
        state["messages"] = [m for m in state["messages"] if m["id"] != data["id"]]
    elif kind == ("reaction", "added"):
        if (message := _message(state, data["message"])) is not None:
            reactions = message["reactions"]
            found = next((r for r in reactions if r["emoji"] == data["emoji"]), None)
            if found is None:
                reactions.append({"emoji": data["emoji"], "users": [data["user"]]})
            else:
                found["users"].append(data["user"])
    elif kind == ("reaction", "removed") and (message := _message(state, data["message"])):
        for r in message["reactions"]:
            if r["emoji"] == data["emoji"]:
                r["users"] = [u for u in r["users"] if u != data["user"]]
        message["reactions"] = [r for r in message["reactions"] if r["users"]]


def world(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The users, channels and messages of a boot answer, or of a state events were applied
    to: what every client of one user must agree on once the server is quiet (docs/api/
    events.md, "What the server promises", 4). A boot carries only each channel's newest
    messages: compare with `ParlourClient.boot_everything()`, which holds them all. Copies:
    applying events to a world changes nothing it was made from."""
    me = snapshot["user"]["id"] if "user" in snapshot else snapshot.get("me")
    return {
        "me": me,
        "users": copy.deepcopy(list(snapshot["users"])),
        "channels": copy.deepcopy(list(snapshot["channels"])),
        "messages": copy.deepcopy(list(snapshot["messages"])),
    }


def empty_world(me: str) -> dict[str, Any]:
    """What a client replaying the stream from 0 starts with."""
    return {"me": me, "users": [], "channels": [], "messages": []}
