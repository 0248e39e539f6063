"""Web Push: the server's VAPID key, browsers' subscriptions, and sending a push for each
new message to the members who have no page open (docs/api/push.md).

Push never delays a send. The store hands this process's committed events to `Pusher.offer`
(never awaiting; only the process that committed a message pushes it, so each is pushed
once however many processes share the database). A resolver task reads whom each message
is for, and a fixed number of sender threads encrypt (RFC 8291, by `pywebpush`/`http_ece`),
sign (RFC 8292, by `py_vapid`) and post (RFC 8030) each push with connect and read
time-outs. Every queue is bounded: a message that finds its queue full is dropped and
counted, never buffered without bound; a push service that does not answer is left alone
for a while, so that it cannot hold every sender.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

from parlour.errors import InvalidInput, PushOff
from parlour.model import Delivery, Message, MessageSent, Session, UserId, now
from parlour.store import Store
from parlour.store.push import NewPushSubscription, PushSubscription, PushTargets

log = logging.getLogger("parlour.push")

VAPID_SETTING = "vapid_private_key"
# docs/api/push.md: a user none of whose streams was connected in the last 60 s is away.
AWAY_AFTER = timedelta(seconds=60)
# How often each process records who has a stream open: well inside AWAY_AFTER, so that a
# connected user's record is never older than it; one write per interval per process.
PRESENCE_INTERVAL_SECONDS = 20.0
# A user newly connected is recorded at once, but no more often than this (a restart
# reconnects every client within a second or two: one write for all of them).
PRESENCE_EARLIEST_SECONDS = 1.0

# Posts in flight at once: one thread each, as the HTTP client blocks. Push services answer
# in tens of milliseconds, so 8 carry hundreds of pushes a second.
SENDERS = 8
# Messages waiting to be resolved into pushes; beyond this (push services far behind, or
# not answering), new messages are not pushed, and are counted as dropped.
MESSAGE_QUEUE = 1000
# At most this many queued messages are resolved in one read.
RESOLVE_BATCH = 100
# Pushes (one per browser) waiting for a sender: a message for many browsers waits for
# room here rather than being dropped, so the bound holds memory without losing big rooms.
JOB_QUEUE = 256
# No push service takes this long to accept a push; a post that does is abandoned.
CONNECT_SECONDS = 10.0
READ_SECONDS = 10.0
# A push service that timed out or refused the connection is not tried again for this long:
# its pushes are dropped meanwhile, so one dead service cannot hold every sender.
HOST_BACKOFF_SECONDS = 60.0
# How long a push service keeps a push for a browser that is offline (RFC 8030 TTL).
TTL_SECONDS = 24 * 3600
# A VAPID token's lifetime (RFC 8292 allows at most 24 hours); a token is signed anew once
# it has less than TOKEN_RENEW_SECONDS left.
TOKEN_SECONDS = 12 * 3600
TOKEN_RENEW_SECONDS = 3600
# Push services whose tokens are kept: a handful in practice (one per browser maker), but
# endpoints are chosen by clients, so the cache is bounded.
MAX_TOKENS = 64
# docs/api/push.md: the body in a push is cut to 200 characters.
BODY_CHARS = 200
# How often the log says what push did (when it did anything).
STATS_SECONDS = 60.0

ENDPOINT_MAX_CHARS = 2048
BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


# -- the key ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VapidKey:
    """The keypair with which push services know this server (RFC 8292)."""

    signer: Any
    """A py_vapid Vapid02 holding the private key."""
    public_key: str
    """The public key as browsers take it (`applicationServerKey`): an uncompressed P-256
    point, base64url without padding."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _from_b64url(text: str) -> bytes | None:
    """The bytes of base64url text (padded or not); None when it is not base64url."""
    if not BASE64URL.fullmatch(text):
        return None
    try:
        return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


async def load_vapid_key(store: Store) -> VapidKey:
    """The server's VAPID key, made at the first start and kept in the database: every
    process (and every restart) signs with the same key, which browsers' subscriptions are
    bound to. Of processes starting together, the first to store its key wins."""
    stored = await store.select_setting(VAPID_SETTING)
    if stored is None:
        private = ec.generate_private_key(ec.SECP256R1())
        scalar = private.private_numbers().private_value.to_bytes(32, "big")
        stored = await store.insert_setting(VAPID_SETTING, _b64url(scalar))
    signer = Vapid02.from_raw(stored.encode("ascii"))
    point = signer.public_key.public_bytes(
        encoding=serialization.Encoding.X962,
        format=serialization.PublicFormat.UncompressedPoint,
    )
    return VapidKey(signer, _b64url(point))


# -- subscriptions ------------------------------------------------------------------------


def validate_endpoint(endpoint: str) -> str:
    """An `https:` URL with a host, as browsers' push services give them. Raises
    InvalidInput."""
    if not 1 <= len(endpoint) <= ENDPOINT_MAX_CHARS:
        raise InvalidInput(
            f"A push endpoint is an https: URL of at most {ENDPOINT_MAX_CHARS} characters."
        )
    if not all("!" <= c <= "~" for c in endpoint):
        raise InvalidInput("A push endpoint is a URL: printable ASCII, without spaces.")
    try:
        url = urlsplit(endpoint)
        port_ok = url.port is None or url.port > 0
    except ValueError:
        port_ok = False
        url = None
    if url is None or url.scheme != "https" or not url.hostname or not port_ok:
        raise InvalidInput(
            "A push endpoint must be an https: URL (the one the browser's PushSubscription gives)."
        )
    if url.username is not None or url.password is not None:
        raise InvalidInput("A push endpoint must not carry a user name or password.")
    return endpoint


def validate_subscription(endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """A browser's subscription (PushSubscription.toJSON()), its keys checked: `p256dh` a
    P-256 public key (65 bytes, an uncompressed point on the curve) and `auth` 16 bytes,
    both base64url. Raises InvalidInput."""
    validate_endpoint(endpoint)
    point = _from_b64url(p256dh)
    if point is None or len(point) != 65 or point[0] != 4:
        raise InvalidInput(
            "keys.p256dh must be the browser's P-256 public key: 65 bytes (an uncompressed "
            "point), base64url."
        )
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        raise InvalidInput("keys.p256dh is not a point on the P-256 curve.") from None
    secret = _from_b64url(auth)
    if secret is None or len(secret) != 16:
        raise InvalidInput("keys.auth must be the browser's 16-byte secret, base64url.")
    return PushSubscription(endpoint, _b64url(point), _b64url(secret))


async def push_key(push: WebPush | None) -> str:
    """The public key browsers subscribe with. Raises PushOff."""
    if push is None:
        raise PushOff()
    return push.key.public_key


async def subscribe(
    store: Store, push: WebPush | None, session: Session, endpoint: str, p256dh: str, auth: str
) -> None:
    """Register this browser (the session's) for its user. Raises InvalidInput, PushOff."""
    subscription = validate_subscription(endpoint, p256dh, auth)
    if push is None:
        raise PushOff()
    await store.insert_push_subscription(
        NewPushSubscription(subscription, session.user.id, session.id, now())
    )


async def unsubscribe(store: Store, push: WebPush | None, session: Session, endpoint: str) -> None:
    """Forget one of the user's browsers (none: nothing to do). Raises InvalidInput,
    PushOff."""
    validate_endpoint(endpoint)
    if push is None:
        raise PushOff()
    await store.delete_push_subscription(session.user.id, endpoint)


# -- presence -----------------------------------------------------------------------------


class Presence:
    """Who has had an event stream open in this process lately, recorded for every process.

    The broker reports each user's first stream opening and last stream closing here. This
    process knows its own streams exactly; other processes learn of them from the database:
    every PRESENCE_INTERVAL_SECONDS, one write records "seen now" for each connected user
    and the closing time for each who left since. A user newly connected is recorded at
    once (so that another process does not push to someone who has just opened a page).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._here: set[UserId] = set()
        self._left_at: dict[UserId, datetime] = {}
        """When users' last stream here closed, for AWAY_AFTER."""
        self._unrecorded: set[UserId] = set()
        """Users who left since the last record."""
        self._recorded: set[UserId] = set()
        self._wake = asyncio.Event()
        self._stopping = False

    def changed(self, user: UserId, present: bool) -> None:
        """From the broker, on the event loop: never awaits."""
        if present:
            self._here.add(user)
            if user not in self._recorded:
                self._wake.set()
        else:
            self._here.discard(user)
            self._left_at[user] = now()
            self._unrecorded.add(user)

    def seen_since(self, user: UserId, since: datetime) -> bool:
        """Whether `user` had a stream open here at `since` or later."""
        if user in self._here:
            return True
        left_at = self._left_at.get(user)
        return left_at is not None and left_at >= since

    async def record(self) -> None:
        """One write: every user connected now, and when each who left did."""
        at = now()
        seen = {user: self._left_at[user] for user in self._unrecorded if user in self._left_at}
        seen.update(dict.fromkeys(self._here, at))
        unrecorded, self._unrecorded = self._unrecorded, set()
        self._recorded = set(self._here)
        forget = at - AWAY_AFTER
        self._left_at = {user: t for user, t in self._left_at.items() if t >= forget}
        if not seen:
            return
        try:
            await self._store.update_presence(seen, forget)
        except BaseException:
            self._unrecorded |= unrecorded  # try again next time
            self._recorded = set()
            raise

    def stop(self) -> None:
        """Record once more (the last closings), then stop."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Record presence until `stop()`."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(PRESENCE_INTERVAL_SECONDS):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.record()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("recording who is connected failed; retrying")
            if self._stopping:
                return
            await asyncio.sleep(PRESENCE_EARLIEST_SECONDS)


# -- sending ------------------------------------------------------------------------------


class Outcome(Enum):
    SENT = "sent"
    GONE = "gone"
    """404 or 410: the browser unsubscribed; the subscription is removed."""
    REFUSED = "refused"
    """Any other answer but success (the push service said why, in its status)."""
    UNREACHABLE = "unreachable"
    """No answer in time, or no connection: the service is left alone for a while."""
    SKIPPED = "skipped"
    """Not tried: the push service is being left alone."""


@dataclass(frozen=True, slots=True)
class PushJob:
    subscription: PushSubscription
    payload: bytes
    urgent: bool


@dataclass(slots=True)
class Counts:
    sent: int = 0
    gone: int = 0
    refused: int = 0
    unreachable: int = 0
    skipped: int = 0
    dropped: int = 0
    """Messages not pushed at all: their queue was full."""

    def any(self) -> bool:
        return any(
            (self.sent, self.gone, self.refused, self.unreachable, self.skipped, self.dropped)
        )


def payload_of(message: Message, targets: PushTargets) -> bytes:
    """What the service worker shows (docs/api/push.md): the channel and message to open, a
    title naming the sender (and the channel, unless direct) and the body, cut short."""
    channel = targets.channel
    title = (
        targets.sender_name
        if channel.kind == "direct" or channel.name is None
        else f"{targets.sender_name} in #{channel.name}"
    )
    return json.dumps(
        {
            "channel": message.channel,
            "message": message.id,
            "title": title,
            "body": message.body[:BODY_CHARS],
        },
        ensure_ascii=False,
    ).encode("utf-8")


@dataclass
class Pusher:
    """Pushes new messages to the browsers of members who are away; see the module doc."""

    store: Store
    presence: Presence
    key: VapidKey
    contact: str
    counts: Counts = field(default_factory=Counts)
    _messages: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(MESSAGE_QUEUE))
    _jobs: queue.Queue[PushJob | None] = field(default_factory=lambda: queue.Queue(JOB_QUEUE))
    _room: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(JOB_QUEUE))
    _down_until: dict[str, float] = field(default_factory=dict)
    _tokens: dict[str, tuple[dict[str, str], int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _threads: list[threading.Thread] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local)
    _loop: asyncio.AbstractEventLoop | None = None
    _closed: bool = False

    def offer(self, deliveries: list[Delivery]) -> None:
        """This process committed these events: queue its new messages for pushing. Called
        on the event loop right after commit; never waits."""
        for delivery in deliveries:
            event = delivery.event
            if isinstance(event, MessageSent):
                try:
                    self._messages.put_nowait(event.message)
                except asyncio.QueueFull:
                    self.counts.dropped += 1

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._spawn(self._resolve(), "parlour-push-resolve")
        self._spawn(self._report(), "parlour-push-report")
        for i in range(SENDERS):
            # Daemon threads: a post stuck in its time-out must not hold up the process's
            # exit (a pool's threads are joined at exit).
            thread = threading.Thread(target=self._send_loop, name=f"parlour-push-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop resolving and sending; posts in flight end by their time-outs."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for _ in self._threads:
            with contextlib.suppress(queue.Full):
                self._jobs.put_nowait(None)
        if self.counts.any():
            self._log_counts()

    async def _resolve(self) -> None:
        """Whom each message goes to, in order; each browser's push waits for room."""
        while True:
            # What queued while the last batch was resolved is resolved together.
            batch = [await self._messages.get()]
            while len(batch) < RESOLVE_BATCH and not self._messages.empty():
                batch.append(self._messages.get_nowait())
            try:
                at = now()
                found = await self.store.select_push_targets(batch, at - AWAY_AFTER, at)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("finding whom to push messages to failed")
                continue
            for message, targets in zip(batch, found, strict=True):
                if targets is not None:
                    await self._queue_pushes(message, targets, at)

    async def _queue_pushes(self, message: Message, targets: PushTargets, at: datetime) -> None:
        """Queue a push to each browser of `targets`; each waits for room."""
        payload = payload_of(message, targets)
        urgent = targets.channel.kind == "direct"
        for user, subscription in targets.recipients:
            if self.presence.seen_since(user, at - AWAY_AFTER):
                continue
            await self._room.acquire()
            self._jobs.put_nowait(
                PushJob(subscription, payload, urgent or user in message.mentions)
            )

    def _send_loop(self) -> None:
        """A sender thread: post each push, and report how it went to the event loop."""
        while not self._closed:
            job = self._jobs.get()
            if job is None:
                return
            try:
                outcome = self._send(job)
            except Exception:
                log.exception("sending a push failed")
                outcome = Outcome.REFUSED
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._done, job, outcome)

    def _done(self, job: PushJob, outcome: Outcome) -> None:
        self._room.release()
        match outcome:
            case Outcome.SENT:
                self.counts.sent += 1
            case Outcome.GONE:
                self.counts.gone += 1
                self._spawn(self._forget(job.subscription), "parlour-push-forget")
            case Outcome.REFUSED:
                self.counts.refused += 1
            case Outcome.UNREACHABLE:
                self.counts.unreachable += 1
            case Outcome.SKIPPED:
                self.counts.skipped += 1

    async def _forget(self, subscription: PushSubscription) -> None:
        try:
            await self.store.delete_gone_push_subscription(subscription)
        except Exception:
            log.exception("removing a subscription its push service calls gone failed")

    def _send(self, job: PushJob) -> Outcome:
        """Encrypt, sign and post one push (on a sender thread)."""
        subscription = job.subscription
        url = urlsplit(subscription.endpoint)
        origin = f"{url.scheme}://{url.netloc}"
        with self._lock:
            if self._down_until.get(origin, 0.0) > time.monotonic():
                return Outcome.SKIPPED
        pusher = WebPusher(
            {
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            }
        )
        # RFC 8291 (aes128gcm) by pywebpush/http_ece; RFC 8292 token by py_vapid.
        body = pusher.encode(job.payload, "aes128gcm")["body"]
        headers = dict(self._token(origin))
        headers.update(
            {
                "TTL": str(TTL_SECONDS),
                "Content-Encoding": "aes128gcm",
                "Content-Type": "application/octet-stream",
                "Urgency": "high" if job.urgent else "normal",
            }
        )
        try:
            # Posted here rather than by pywebpush's `webpush`, which reads the whole answer
            # into memory and follows redirects: the endpoint is chosen by a client, so the
            # answer is never read (its status says all) and a redirect is not followed.
            with self._session().post(
                subscription.endpoint,
                data=body,
                headers=headers,
                timeout=(CONNECT_SECONDS, READ_SECONDS),
                allow_redirects=False,
                stream=True,
            ) as response:
                status = response.status_code
        except (requests.Timeout, requests.ConnectionError) as e:
            with self._lock:
                moment = time.monotonic()
                fresh = self._down_until.get(origin, 0.0) <= moment
                if fresh and len(self._down_until) >= MAX_TOKENS:  # bounded, as above
                    self._down_until = {o: t for o, t in self._down_until.items() if t > moment}
                self._down_until[origin] = moment + HOST_BACKOFF_SECONDS
            if fresh:
                log.warning(
                    "the push service %s did not answer (%s); its pushes are dropped for %.0f s",
                    origin,
                    type(e).__name__,
                    HOST_BACKOFF_SECONDS,
                )
            return Outcome.UNREACHABLE
        except requests.RequestException as e:
            log.warning("a push to %s failed: %s", origin, e)
            return Outcome.REFUSED
        if 200 <= status < 300:
            return Outcome.SENT
        if status in (404, 410):
            return Outcome.GONE
        log.warning("the push service %s refused a push: %d", origin, status)
        return Outcome.REFUSED

    def _token(self, origin: str) -> dict[str, str]:
        """The VAPID header for a push service, signed once and used until it is close to
        expiring: signing every push would cost as much as encrypting it."""
        with self._lock:
            cached = self._tokens.get(origin)
        if cached is not None and cached[1] > time.time() + TOKEN_RENEW_SECONDS:
            return cached[0]
        expires = int(time.time()) + TOKEN_SECONDS
        header: dict[str, str] = self.key.signer.sign(
            {"aud": origin, "exp": expires, "sub": self.contact}
        )
        with self._lock:
            if len(self._tokens) >= MAX_TOKENS:
                self._tokens.clear()
            self._tokens[origin] = (header, expires)
        return header

    def _session(self) -> requests.Session:
        """This thread's HTTP client: keeps connections to push services open between
        pushes (a requests.Session is not meant to be shared between threads)."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    async def _report(self) -> None:
        """What push did, in one log line a minute (when it did anything)."""
        while True:
            await asyncio.sleep(STATS_SECONDS)
            if self.counts.any():
                self._log_counts()

    def _log_counts(self) -> None:
        c, self.counts = self.counts, Counts()
        log.info(
            "web push: %d sent, %d gone (removed), %d refused, %d unanswered, %d skipped "
            "(service not answering), %d messages dropped (queue full)",
            c.sent,
            c.gone,
            c.refused,
            c.unreachable,
            c.skipped,
            c.dropped,
        )


@dataclass
class WebPush:
    """Web Push as a whole, when it is on: the key, who is present, and the pusher."""

    key: VapidKey
    presence: Presence
    pusher: Pusher
    _presence_task: asyncio.Task[None] | None = None

    @classmethod
    async def start_up(cls, store: Store, contact: str) -> WebPush:
        """Load (or make) the key. Raises StorageError."""
        key = await load_vapid_key(store)
        presence = Presence(store)
        return cls(key, presence, Pusher(store, presence, key, contact))

    @property
    def on_presence(self) -> Callable[[UserId, bool], None]:
        return self.presence.changed

    def start(self) -> None:
        self.pusher.start()
        self._presence_task = asyncio.create_task(self.presence.run(), name="parlour-presence")

    async def close(self) -> None:
        """Before the store closes: record the last closings, stop sending."""
        self.presence.stop()
        if self._presence_task is not None:
            with contextlib.suppress(Exception):
                await self._presence_task
        await self.pusher.close()
