"""Config: every setting of `parlour serve`, parsed and validated once."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

# ASCII: `\d` alone would also take other scripts' digits ("٣s" was 3 seconds; issue 6).
DURATION = re.compile(r"^\s*(\d{1,12})\s*([smhd]?)\s*$", re.ASCII)
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """`30s`, `5m`, `24h`, `90d`, or a bare number of seconds; anything else is ValueError."""
    m = DURATION.match(text)
    if m is None:
        raise ValueError(
            f"{text!r} is not a duration: use a whole number with s, m, h or d (e.g. 30s, 90d)"
        )
    seconds = int(m.group(1)) * UNIT_SECONDS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a duration: it must be longer than zero")
    if seconds > 100 * 365 * 86400:
        raise ValueError(f"{text!r} is too long a duration (at most 100 years)")
    return timedelta(seconds=seconds)


def format_duration(d: timedelta) -> str:
    """The shortest exact spelling of a duration, for --help and logs."""
    seconds = int(d.total_seconds())
    for suffix, unit in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % unit == 0:
            return f"{seconds // unit}{suffix}"
    return f"{seconds}s"


def parse_trusted_proxies(text: str) -> tuple[str, ...]:
    """`127.0.0.1, ::1, 10.0.0.0/8` → each address or network, written as Python writes it
    (a network with host bits set is taken as the network); anything else is ValueError.

    Checked here because uvicorn takes a malformed entry for a name to compare literally,
    which never matches: a typo would silently trust no proxy.
    """
    proxies: list[str] = []
    for item in text.split(","):
        entry = item.strip()
        if not entry:
            continue
        try:
            if "/" in entry:
                proxies.append(str(ipaddress.ip_network(entry, strict=False)))
            else:
                proxies.append(str(ipaddress.ip_address(entry)))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network (e.g. 127.0.0.1, ::1, 10.0.0.0/8)"
            ) from None
    return tuple(proxies)


# What push services accept as a VAPID contact (RFC 8292 `sub`): a mail address, or an
# https: origin without a path (as the VAPID library parlour uses checks it).
PUSH_CONTACT = re.compile(
    r"^(mailto:[^@\s]+@(localhost|[\w-]+(\.[\w-]+)+)|https://(localhost|[\w-]+(\.[\w-]+)+))$",
    re.ASCII,
)


def check_push_contact(text: str) -> bool:
    """Whether `text` is a contact push services accept: mailto:… or https://host."""
    return PUSH_CONTACT.match(text) is not None


# The environment variable that sets Config.cheap_password_hashes (when "1").
TEST_CHEAP_HASHES_ENV = "PARLOUR_TEST_CHEAP_PASSWORD_HASHES"


@dataclass(frozen=True, slots=True)
class Config:
    database: str = "parlour.db"
    address: str = "127.0.0.1"
    port: int = 64209
    message_expiry: timedelta = timedelta(days=90)
    channel_expiry: timedelta = timedelta(days=90)
    invite_expiry: timedelta = timedelta(days=1)
    session_expiry: timedelta = timedelta(days=7)
    heartbeat: timedelta = timedelta(seconds=30)
    expiry_interval: timedelta = timedelta(seconds=60)
    behind_https: bool = False
    who_can_invite: Literal["members", "admins"] = "members"
    login_failures: int = 10
    login_address_failures: int = 50
    login_window: timedelta = timedelta(minutes=5)
    trusted_proxies: tuple[str, ...] = ()
    """Addresses and networks (`10.0.0.0/8`) whose X-Forwarded-For is believed."""
    push: bool = True
    """Web Push for notifications (docs/api/push.md); off: no key, no presence, no pushes."""
    push_contact: str = "mailto:parlour@localhost"
    """The operator's contact (`mailto:` or `https:`), sent to push services in every VAPID
    token (RFC 8292 `sub`) so that they can reach whoever runs the server."""
    cheap_password_hashes: bool = False
    """For parlour's own test suite only: argon2id with argon2-cffi's cheapest parameters
    rather than RFC 9106's. Set by the environment alone (TEST_CHEAP_HASHES_ENV), never by a
    flag, and the server warns at start: hashes made so are cheap to guess."""
