"""Hypothesis against parlour's input rules, through the real server where it matters (issue 6).

* Names: accepted exactly when the documented rules hold (an oracle written from
  docs/api/index.md, "Names and bodies", not from the code), shown as typed after NFC, and
  equal to their NFD and case-folded spellings; over HTTP, a channel is created exactly when
  its name is valid, and a second spelling of the same name then gets 409.
* Durations: every `N` + unit parses to N units, the shortest spelling parses back, and any
  other text is refused, by `parse_duration` (ValueError, nothing else) and by the command
  line (exit status 2 and one line).
* Message bodies with newlines, CR, NUL, other control characters, lone surrogates, line
  and paragraph separators, combining marks: a body that breaks the documented rules gets a
  clean 400 problem document; any other comes back exactly (after NFC) in the 202, in boot,
  and through the event stream, whose raw bytes are split into lines as an SSE client splits
  them (CR, LF, CRLF): each event is exactly one `id:` line and one `data:` line.
"""

from __future__ import annotations

import contextlib
import io
import json
import queue
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from reliability_figures import SOAK, record

from conftest import ServerProcess
from parlour.cli import build_parser
from parlour.config import format_duration, parse_duration
from parlour.domain.names import name_key, normalize_name
from parlour.errors import InvalidInput
from parlour_client import ParlourClient, assert_problem

HTTP_EXAMPLES = 2000 if SOAK else 400
PURE_EXAMPLES = 20000 if SOAK else 2000
STREAM_SECONDS = 30

# --- oracles, from docs/api/index.md, "Names and bodies" ------------------------------------


def paired(text: str) -> str:
    """The text as the server decodes it from JSON: a high and a low surrogate side by side
    spell one character ("\\ud800\\udfff" is U+103FF); lone halves stay."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def has_surrogate(text: str) -> bool:
    """Whether a lone surrogate is left once the pairs are read as characters."""
    return any(0xD800 <= ord(c) <= 0xDFFF for c in paired(text))


def is_name_format_character(c: str) -> bool:
    """The Cf characters that ordinary names are made of, which the rules allow (issue 10)."""
    return c in "\u200c\u200d" or 0xE0020 <= ord(c) <= 0xE007F


def name_is_valid(raw: str) -> bool:
    """After NFC, 1-64 characters, no white space at either end, no control
    characters (Cc, Cf other than U+200C, U+200D and the tags U+E0020-U+E007F) and no line
    breaks; and it must be text (no lone surrogates)."""
    if has_surrogate(raw):
        return False
    name = unicodedata.normalize("NFC", paired(raw))
    return (
        1 <= len(name) <= 64
        and not name[0].isspace()
        and not name[-1].isspace()
        and not any(unicodedata.category(c) == "Cc" for c in name)
        and not any(
            unicodedata.category(c) == "Cf" and not is_name_format_character(c) for c in name
        )
        and not any(c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029" for c in name)
    )


def body_is_valid(raw: str) -> bool:
    """After NFC, 1-8,192 code points, not only white space, and no control characters
    other than tab, CR and LF; and it must be text (no lone surrogates)."""
    if has_surrogate(raw):
        return False
    body = unicodedata.normalize("NFC", paired(raw))
    return (
        1 <= len(body) <= 8192
        and not body.isspace()
        and not any(unicodedata.category(c) == "Cc" and c not in "\t\r\n" for c in body)
    )


# Characters that have broken chat servers: line ends of every kind, NUL and other controls,
# format characters, lone surrogates, combining marks, non-BMP, and SSE field look-alikes.
TRICKY = [
    "\n", "\r", "\r\n", "\n\n", "\x00", "\t", "\x0b", "\x0c", "\x1b", "\x7f", "\x85",
    "\u2028", "\u2029", "\ufeff", "\u200b", "\u202e", "\u2066", "\u200c", "\u200d",
    "\U0001f469\u200d\U0001f4bb", "\U0001f3f4\U000e0067\U000e0062\U000e007f", "\U000e0001",
    "\U000e0020", "\U000e007f", "\U000e0080", "\ufe0f", "e\u0301", "\u0301", "\ud800",
    "\udfff", "\U0001f600", "\U0010ffff", " ", "\u3000", "\xa0", "data: x", "id: 9",
    "event: heartbeat", ":", "é", "ß", "İ", "ﬁ", "\uff21", "\\", '"', "</script>",
]  # fmt: skip
tricky_text = st.lists(st.one_of(st.sampled_from(TRICKY), st.text(max_size=12)), max_size=10).map(
    "".join
)
names = st.one_of(tricky_text, st.text(max_size=70))
bodies = st.one_of(
    tricky_text,
    st.text(max_size=200),
    st.integers(8185, 8200).map(lambda n: "ab\n" * (n // 3) + "x" * (n % 3)),
)

# --- names -------------------------------------------------------------------------------------


@settings(max_examples=PURE_EXAMPLES, deadline=None)
@given(names)
@example("Café")
@example(" lead")
@example("a\u2028b")
@example("\U0001f9d7\u200d\u2642\ufe0f")  # regression (issue 10): joiners and tags are
@example("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")  # part of ordinary names
@example("\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f")
@example("zero\u200bwidth")
def test_a_name_is_accepted_exactly_when_the_documented_rules_hold(raw: str) -> None:
    try:
        shown, key = normalize_name(raw, "user")
    except InvalidInput:
        assert not name_is_valid(raw), f"valid by the documented rules but refused: {raw!r}"
        record("input properties", names_checked=1)
        return
    assert name_is_valid(raw), f"invalid by the documented rules but accepted: {raw!r}"
    assert shown == unicodedata.normalize("NFC", paired(raw))
    assert normalize_name(shown, "user") == (shown, key)
    assert key == name_key(unicodedata.normalize("NFD", raw))
    assert key == name_key(shown.upper()) or not shown.isascii()
    record("input properties", names_checked=1)


@dataclass
class Site:
    server: ServerProcess
    owner: ParlourClient
    channel_id: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    server = ServerProcess(tmp_path_factory.mktemp("inputs") / "parlour.db").start()
    try:
        owner = server.set_up()
        yield Site(server, owner, owner.create_channel("bodies")["id"])
        output = "".join(server.output)
        assert "Traceback" not in output, output[-3000:]
    finally:
        server.close()


def post_json(client: httpx.Client, path: str, payload: dict[str, str]) -> httpx.Response:
    """POST `payload` as ASCII JSON: lone surrogates travel as `\\udXXX` escapes."""
    content = json.dumps(payload, ensure_ascii=True)
    return client.post(path, content=content, headers={"Content-Type": "application/json"})


HTTP = settings(
    max_examples=HTTP_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HTTP
@given(raw=names)
@example(raw="cafe\u0301")
@example(raw="x" * 65)
@example(raw="\U0001f3f3\ufe0f\u200d\U0001f308")  # regression (issue 10)
@example(raw="evil\u202etxt")
def test_a_channel_is_created_exactly_when_its_name_is_valid_and_is_one_name(
    site: Site, raw: str
) -> None:
    r = post_json(site.owner, "/api/channels", {"name": raw})
    if not name_is_valid(raw):
        assert_problem(r, 400)
        record("input properties", bad_names_refused_over_http=1)
        return
    assert r.status_code == 202, r.text
    channel = r.json()
    try:
        assert channel["name"] == unicodedata.normalize("NFC", paired(raw))
        for spelling in {unicodedata.normalize("NFD", raw), raw.casefold(), raw.upper()}:
            if name_is_valid(spelling) and name_key(spelling) == name_key(raw):
                again = post_json(site.owner, "/api/channels", {"name": spelling})
                assert_problem(again, 409)
    finally:
        site.owner.delete_channel(channel["id"])
    record("input properties", names_accepted_over_http=1)


# --- durations ---------------------------------------------------------------------------------

UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
HUNDRED_YEARS = 100 * 365 * 86400


@settings(max_examples=PURE_EXAMPLES, deadline=None)
@given(st.integers(0, 10**7), st.sampled_from(list(UNITS)), st.sampled_from(["", " ", "  "]))
def test_a_number_with_a_unit_parses_to_that_many_units(n: int, unit: str, pad: str) -> None:
    text = f"{pad}{n}{pad}{unit}{pad}"
    seconds = n * UNITS[unit]
    record("input properties", durations_checked=1)
    if not 0 < seconds <= HUNDRED_YEARS:
        with pytest.raises(ValueError, match="duration"):
            parse_duration(text)
        return
    parsed = parse_duration(text)
    assert parsed == timedelta(seconds=seconds)
    assert parse_duration(format_duration(parsed)) == parsed


@settings(max_examples=PURE_EXAMPLES, deadline=None)
@given(st.one_of(st.text(max_size=12), tricky_text))
@example("1.5s")
@example("-1s")
@example("1w")
@example("٣s")  # regression (issue 6): an Arabic-Indic digit was read as 3 seconds
def test_any_other_text_is_refused_as_a_duration(text: str) -> None:
    valid = re.fullmatch(r"\s*[0-9]{1,12}\s*[smhd]?\s*", text, re.ASCII)
    record("input properties", durations_checked=1)
    try:
        parsed = parse_duration(text)
    except ValueError:
        return
    assert valid, f"{text!r} parsed as {parsed}"
    assert parsed > timedelta(0)


@settings(max_examples=200 if SOAK else 60, deadline=None)
@given(st.one_of(st.text(max_size=8), st.sampled_from(["0s", "1.5m", "-3d", "10y", "9" * 20])))
def test_a_bad_duration_flag_exits_2_with_one_line(text: str) -> None:
    valid = re.fullmatch(r"\s*[0-9]{1,12}\s*[smhd]?\s*", text, re.ASCII)
    record("input properties", heartbeat_flags_checked=1)
    parser = build_parser()
    stderr = io.StringIO()
    if valid:
        return  # (parse_duration's own property is above)
    with contextlib.redirect_stderr(stderr), pytest.raises(SystemExit) as exited:
        parser.parse_args(["serve", "--heartbeat", text])
    assert exited.value.code == 2
    assert stderr.getvalue().count("\n") == 1, stderr.getvalue()
    assert "--heartbeat" in stderr.getvalue()


# --- message bodies through the server and the stream -------------------------------------


class RawStream:
    """The event stream's raw bytes, split into SSE blocks as a client's parser would."""

    LINE_END = re.compile(rb"\r\n|\r|\n")

    def __init__(self, client: httpx.Client, resume_point: int) -> None:
        self._chunks: queue.Queue[bytes | None] = queue.Queue()
        self._client = httpx.Client(
            base_url=str(client.base_url),
            cookies=client.cookies,
            timeout=httpx.Timeout(10.0, read=None),
        )
        self._context = self._client.stream(
            "GET", "/api/events", params={"resume_point": str(resume_point)}
        )
        self.response = self._context.__enter__()
        assert self.response.status_code == 200
        self._buffer = b""
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        with contextlib.suppress(httpx.HTTPError):
            for chunk in self.response.iter_raw():
                self._chunks.put(chunk)
        self._chunks.put(None)

    def next_event(self, timeout: float) -> list[bytes]:
        """The lines of the next block that is an event (not `retry:`, not a heartbeat)."""
        while True:
            block = self._next_block(timeout)
            fields = [line.split(b":", 1)[0] for line in block]
            if fields in ([b"retry"], [b"event", b"data"]):
                continue
            return block

    def _next_block(self, timeout: float) -> list[bytes]:
        block: list[bytes] = []
        while True:
            line = self._next_line(timeout)
            if line == b"":
                if block:
                    return block
            elif not line.startswith(b":"):  # a comment line
                block.append(line)

    def _next_line(self, timeout: float) -> bytes:
        while True:
            end = self.LINE_END.search(self._buffer)
            # A CR at the very end may be the first half of a CRLF: wait for what follows.
            if end and not (end.group() == b"\r" and end.end() == len(self._buffer)):
                line = self._buffer[: end.start()]
                self._buffer = self._buffer[end.end() :]
                return line
            chunk = self._chunks.get(timeout=timeout)
            assert chunk is not None, "the stream ended"
            self._buffer += chunk

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._context.__exit__(None, None, None)
        self._client.close()


@pytest.fixture(scope="module")
def raw_stream(site: Site) -> Iterator[RawStream]:
    stream = RawStream(site.owner, site.owner.resume_point())
    yield stream
    stream.close()


def event_of(block: list[bytes]) -> tuple[int, dict[str, Any]]:
    """Exactly `id: N` then one `data:` line of UTF-8 JSON, as docs/api/events.md frames one."""
    assert len(block) == 2, block
    assert block[0].startswith(b"id: "), block
    assert block[1].startswith(b"data: "), block
    data = json.loads(block[1][len(b"data: ") :].decode("utf-8"))
    assert isinstance(data, dict)
    return int(block[0][len(b"id: ") :]), data


@HTTP
@given(raw=bodies)
@example(raw="line one\nline two\r\nthree\rfour")
@example(raw="nul\x00inside")
@example(raw="lone \ud800 surrogate")
@example(raw="\n\ndata: {}\n\nid: 99\n\n")
@example(raw="e\u0301\u2028\u2029")
def test_a_body_comes_back_exactly_through_the_stream_or_gets_a_clean_400(
    site: Site, raw_stream: RawStream, raw: str
) -> None:
    r = post_json(site.owner, f"/api/channels/{site.channel_id}", {"body": raw})
    if not body_is_valid(raw):
        assert_problem(r, 400)
        record("input properties", bad_bodies_refused=1)
        return
    assert r.status_code == 202, r.text
    message = r.json()
    expected = unicodedata.normalize("NFC", paired(raw))
    assert message["body"] == expected
    seq, data = event_of(raw_stream.next_event(STREAM_SECONDS))
    assert (data["type"], data["event"], data["id"]) == ("message", "sent", message["id"])
    assert data["body"] == expected
    snapshot = site.owner.boot()
    assert snapshot["messages"] == [message]
    assert snapshot["resume_point"] == seq
    # Delete it, so that boot stays small; its deletion is the stream's next event.
    site.owner.delete_message(message["id"])
    _, deleted = event_of(raw_stream.next_event(STREAM_SECONDS))
    assert (deleted["event"], deleted["id"]) == ("deleted", message["id"])
    record("input properties", bodies_round_tripped=1)
