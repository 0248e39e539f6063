"""gzip for the client's files, the page and JSON answers; never for the event stream,
which must still deliver each event the moment it happens (docs/operations.md,
"Compression"; issue 16)."""

from __future__ import annotations

import gzip
import threading
import time

import httpx
import pytest

from conftest import ServerProcess
from parlour_client import ParlourClient

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def raw_get(
    client: httpx.Client, path: str, headers: dict[str, str]
) -> tuple[httpx.Response, bytes]:
    """A GET, and its body as it came over the wire (not decoded by httpx)."""
    with client.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize(
    "path", ["/", "/static/parlour.css", "/static/chat.js", "/sw.js", "/api/boot"]
)
def test_files_the_page_and_json_are_gzipped_when_asked(
    server: ServerProcess, owner: ParlourClient, path: str
) -> None:
    general = owner.create_channel("general")["id"]
    for n in range(20):
        owner.send_message(general, f"message number {n}, long enough to be worth packing")
    packed, packed_body = raw_get(owner, path, GZIP)
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    plain, plain_body = raw_get(owner, path, IDENTITY)
    assert "content-encoding" not in plain.headers
    unpacked = gzip.decompress(packed_body)
    assert len(packed_body) < len(unpacked)
    if path != "/api/boot":  # (boot's session data differ between two answers)
        assert unpacked == plain_body


def test_a_small_answer_is_left_as_it_is(owner: ParlourClient) -> None:
    answer = owner.get("/api/channels/Cnot-a-channel-at-all/messages", headers=GZIP)
    assert answer.status_code == 404
    assert "content-encoding" not in answer.headers


def test_the_event_stream_is_never_compressed_and_events_arrive_at_once(
    owner: ParlourClient,
) -> None:
    general = owner.create_channel("general")["id"]
    resume = owner.resume_point()
    chunks: list[tuple[float, bytes]] = []
    opened = threading.Event()
    headers: dict[str, str] = {}

    def read() -> None:
        with owner.stream(
            "GET",
            "/api/events",
            params={"resume_point": resume},
            headers={**GZIP, "Accept": "text/event-stream"},
            timeout=httpx.Timeout(10.0),
        ) as response:
            headers.update(response.headers)
            opened.set()
            for chunk in response.iter_raw():
                chunks.append((time.monotonic(), chunk))
                if b"said at once" in chunk:
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(5), "the stream's headers did not come at once"
    assert headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in headers
    time.sleep(0.2)
    sent = time.monotonic()
    owner.send_message(general, "said at once")
    reader.join(5)
    assert not reader.is_alive(), f"the event did not arrive: {chunks!r}"
    arrived = chunks[-1][0]
    assert arrived - sent < 1.0
