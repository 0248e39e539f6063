"""The docs cannot rot: every curl example in docs/api/ runs against a live server (issue 5).

The convention (written out for authors in docs/api/index.md, "How the examples are checked"):

* The pages of docs/api/ are read in the order mkdocs.yml lists them: one story, from setup
  to errors, told by a reader who runs every example in one folder and one shell session
  (cookie jars are files there; shell variables set by one example are there for the next).
* A ```sh block whose command is `parlour serve …` starts a server. Its `--port` (64209 by
  default) names it: examples' URLs `http://127.0.0.1:PORT` are pointed at that server.
  `--database` is replaced by a fresh file; every other flag is passed as written.
* Every other ```sh block is an example. The next fenced block on the page must be an
  ```http block: the documented response, `HTTP/1.1 NNN Reason`, then headers, a blank line
  and the body. The example's last response must have that status and every listed header
  (`…` in a value matches anything). When the example prints the body (`curl -i`, or JSON
  through `tee` or `jq`), the body must match too: JSON with the same keys, list lengths and values,
  except that generated ids and times only need the same kind, as values and as keys (and
  `…` matches anything); an event stream must carry the same event ids with matching data
  (heartbeats aside).
* An example's "last response" is the last `HTTP/…` status line it prints (`curl -i`) or,
  when it prints none, the response to the last curl it started. Every curl it starts must
  get an answer; it must exit 0 (or 28, curl's time-out, when it uses `--max-time`).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from markdown_it import MarkdownIt

from conftest import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API_DOCS = DOCS / "api"
MKDOCS_YML = ROOT / "mkdocs.yml"

DOCUMENTED_PORT = 64209
DOC_URL = re.compile(r"http://127\.0\.0\.1:(\d+)")
STATUS_LINE = re.compile(r"^HTTP/[\d.]+ (\d{3})\b[^\n]*$", re.MULTILINE)
ASSIGNMENT = re.compile(r"^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)=", re.MULTILINE)
GENERATED_ID = re.compile(r"^([UCMIR])[A-Za-z0-9_-]{16,}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ANYTHING = "…"
ENDPOINT_HEADING = re.compile(r"^(#{2,6}) (GET|POST|PUT|PATCH|DELETE) (/\S+)\s*$", re.MULTILINE)
STATUS_ROW = re.compile(r"^\|\s*(\d{3})\s*\|", re.MULTILINE)

CURL_TIMED_OUT = 28  # curl's exit status when --max-time ends a transfer (a stream, here)
EXAMPLE_TIMEOUT_SECONDS = 60.0
# Enough for the whole story (logins hash passwords; the expiry demo waits on purpose).
STORY_TIMEOUT_SECONDS = 600

# A stand-in for jq where it is not installed: the docs only read fields (`.a.b[0]`).
JQ_STAND_IN = """
import json, re, sys
args = [a for a in sys.argv[1:] if a != "-r"]
raw = "-r" in sys.argv[1:]
path = args[0]
if not re.fullmatch(r"(\\.[A-Za-z_][A-Za-z0-9_]*|\\[\\d+\\])*\\.?", path):
    sys.exit(f"jq stand-in: {path!r} is more than a field path; install jq")
value = json.load(open(args[1]) if len(args) > 1 else sys.stdin)
for key, index in re.findall(r"\\.([A-Za-z_][A-Za-z0-9_]*)|\\[(\\d+)\\]", path):
    value = value.get(key) if key and isinstance(value, dict) else (
        value[int(index)] if index and isinstance(value, list) else None)
print(value if raw and isinstance(value, str) else json.dumps(value))
"""


# --- Reading the docs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fence:
    """One fenced code block of a page."""

    page: Path
    line: int
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str:
        return next((v for n, v in self.headers if n == name), "")


@dataclass(frozen=True)
class ServerBlock:
    fence: Fence
    port: int
    args: tuple[str, ...]


@dataclass(frozen=True)
class Example:
    fence: Fence
    expected: Response


def api_pages() -> list[Path]:
    """docs/api/ pages in the order mkdocs.yml's nav lists them (the order of the story)."""
    names = re.findall(r"\bapi/[A-Za-z0-9_-]+\.md\b", MKDOCS_YML.read_text("utf-8"))
    return [DOCS / name for name in dict.fromkeys(names)]


def fences(page: Path) -> list[Fence]:
    tokens = MarkdownIt("commonmark").parse(page.read_text("utf-8"))
    return [
        Fence(page, (t.map[0] + 1) if t.map else 0, (t.info.split() or [""])[0], t.content)
        for t in tokens
        if t.type == "fence"
    ]


def parse_response(text: str) -> Response:
    """An HTTP response as `curl -i` prints it (or as the docs show it)."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    first, *lines = head.rstrip("\n").split("\n")
    status = STATUS_LINE.match(first)
    if status is None:
        raise ValueError(f"not an HTTP status line: {first!r}")
    headers = []
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"not a header line: {line!r}")
        headers.append((name.strip().lower(), value.strip()))
    return Response(int(status.group(1)), headers, body)


def server_block(fence: Fence) -> ServerBlock | None:
    words = shlex.split(fence.text.replace("\\\n", " "), comments=True)
    if words[:2] != ["parlour", "serve"]:
        return None
    port, args = DOCUMENTED_PORT, []
    rest = iter(words[2:])
    for word in rest:
        name, equals, value = word.partition("=")
        if name in {"--port", "--database"}:
            value = value if equals else next(rest)
            if name == "--port":
                port = int(value)
        else:
            args.append(word)
    return ServerBlock(fence, port, tuple(args))


def story() -> list[ServerBlock | Example]:
    """Every server and example of docs/api/, in reading order."""
    items: list[ServerBlock | Example] = []
    for page in api_pages():
        blocks = fences(page)
        for i, fence in enumerate(blocks):
            if fence.lang != "sh":
                continue
            server = server_block(fence)
            if server is not None:
                items.append(server)
                continue
            after = blocks[i + 1] if i + 1 < len(blocks) else None
            if after is None or after.lang != "http":
                raise AssertionError(
                    f"{fence.where}: an example must be followed by its documented response "
                    "(an ```http block)"
                )
            items.append(Example(fence, parse_response(after.text)))
    return items


# --- Comparing a documented response with the real one -------------------------------------


def matches(pattern: str, actual: str) -> bool:
    """`…` in the documented text matches any run of characters."""
    regex = ".*".join(re.escape(part) for part in pattern.split(ANYTHING))
    return re.fullmatch(regex, actual, re.DOTALL) is not None


def _same_kind_of_id(doc: str, actual: str) -> bool:
    kind, got = GENERATED_ID.match(doc), GENERATED_ID.match(actual)
    return kind is not None and got is not None and kind.group(1) == got.group(1)


def assert_like(doc: Any, actual: Any, path: str = "$") -> None:
    """Same shape and values, except generated ids and times (which only keep their kind)."""
    if isinstance(doc, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        # Keys too may be generated ids (boot's `older` and `reads` are maps by channel id):
        # those match any id of the same kind, in the same place.
        keys = f"{path}: keys {list(doc)} != {list(actual)}"
        assert len(doc) == len(actual), keys
        assert all(d == a or _same_kind_of_id(d, a) for d, a in zip(doc, actual, strict=True)), keys
        for d, a in zip(doc, actual, strict=True):
            assert_like(doc[d], actual[a], f"{path}.{a}")
    elif isinstance(doc, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        assert len(doc) == len(actual), f"{path}: {len(doc)} items documented, {len(actual)}"
        for i, (d, a) in enumerate(zip(doc, actual, strict=True)):
            assert_like(d, a, f"{path}[{i}]")
    elif isinstance(doc, str) and (kind := GENERATED_ID.match(doc)):
        assert isinstance(actual, str), f"{path}: expected an id, got {actual!r}"
        got = GENERATED_ID.match(actual)
        assert got, f"{path}: {actual!r} is not an id"
        assert got.group(1) == kind.group(1), f"{path}: {actual!r} is not a {doc[0]} id"
    elif isinstance(doc, str) and TIME.match(doc):
        assert isinstance(actual, str), f"{path}: expected a time, got {actual!r}"
        assert TIME.match(actual), f"{path}: {actual!r} is not a time"
    elif isinstance(doc, str) and ANYTHING in doc:
        assert isinstance(actual, str), f"{path}: expected text, got {actual!r}"
        assert matches(doc, actual), f"{path}: {actual!r} does not match {doc!r}"
    else:
        assert doc == actual, f"{path}: documented {doc!r}, got {actual!r}"


def stream_events(body: str) -> list[tuple[int, Any]]:
    """The (id, data) of every SSE message with an id (heartbeats and `retry:` have none)."""
    events = []
    for frame in re.split(r"\n\s*\n", body.strip()):
        fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
        if "id" in fields:
            events.append((int(fields["id"]), json.loads(fields["data"])))
    return events


def assert_body_like(expected: Response, actual: Response) -> None:
    media_type = actual.header("content-type").split(";")[0]
    if media_type == "text/event-stream":
        doc, got = stream_events(expected.body), stream_events(actual.body)
        assert [i for i, _ in doc] == [i for i, _ in got], f"event ids: {doc} != {got}"
        for (i, d), (_, a) in zip(doc, got, strict=True):
            assert_like(d, a, f"event {i}")
    elif media_type.endswith("json") and expected.body.strip():
        assert_like(json.loads(expected.body), json.loads(actual.body))
    else:
        assert expected.body.strip() == actual.body.strip(), "bodies differ"


# --- Running the examples ------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    response: Response
    shows_body: bool
    """Whether the example printed the body (so it can be compared)."""
    report: str


@dataclass
class Reader:
    """Someone following the docs in one folder, from one shell session."""

    folder: Path
    urls: dict[int, str] = field(default_factory=dict)
    variables: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True)
        self.bin = self.folder / ".bin"
        self.headers = self.folder / ".headers"
        self.bin.mkdir()
        self.headers.mkdir()
        curl = shutil.which("curl")
        if curl is None:
            pytest.fail("the docs' examples need curl on PATH")
        # Transparent: records the response headers of every curl call, so that an example
        # that prints only a body (or nothing) still shows which status it got.
        dump = '"$PARLOUR_DOCS_HEADERS/$(date +%s%N)-$$"'
        self._tool("curl", f'#!/bin/sh\nexec {shlex.quote(curl)} --dump-header {dump} "$@"\n')
        if shutil.which("jq") is None:
            self._tool("jq", f"#!{sys.executable}\n{JQ_STAND_IN}")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PARLOUR_")},
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "PARLOUR_DOCS_HEADERS": str(self.headers),
        }

    def _tool(self, name: str, text: str) -> None:
        path = self.bin / name
        path.write_text(text, "utf-8")
        path.chmod(0o755)

    def localize(self, fence: Fence) -> str:
        def to_server(m: re.Match[str]) -> str:
            port = int(m.group(1))
            if port not in self.urls:
                raise AssertionError(f"{fence.where}: no server on port {port} started before")
            return self.urls[port]

        return DOC_URL.sub(to_server, fence.text)

    def execute(self, fence: Fence) -> Outcome:
        """Run one example as the reader would, recording what each curl got."""
        for old in self.headers.iterdir():
            old.unlink()
        self.variables += [v for v in ASSIGNMENT.findall(fence.text) if v not in self.variables]
        keep = (
            f"trap 'declare -p {' '.join(self.variables)} > .docs-env 2>/dev/null || true' EXIT\n"
            if self.variables
            else ""
        )
        script = (
            "set -euo pipefail\n"
            "if [ -f .docs-env ]; then source .docs-env; fi\n"
            f"{keep}{self.localize(fence)}"
        )
        done = subprocess.run(
            ["bash", "-c", script],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=EXAMPLE_TIMEOUT_SECONDS,
            check=False,
        )
        report = (
            f"\n--- example at {fence.where} ---\n{fence.text}"
            f"--- exit status {done.returncode}; output ---\n{done.stdout}\n"
            f"--- stderr ---\n{done.stderr}"
        )
        allowed = {0, CURL_TIMED_OUT} if "--max-time" in fence.text else {0}
        assert done.returncode in allowed, "the example failed" + report
        dumps = sorted(self.headers.iterdir())
        assert dumps, "the example ran no curl" + report
        for dump in dumps:
            assert STATUS_LINE.search(dump.read_text("utf-8", "replace")), (
                "a curl got no answer" + report
            )
        actual, shows_body = self.response(done.stdout, dumps[-1])
        return Outcome(actual, shows_body, report)

    def run(self, example: Example) -> None:
        """Run an example and compare its last response with the documented one."""
        outcome = self.execute(example.fence)
        actual, expected = outcome.response, example.expected
        try:
            assert actual.status == expected.status, (
                f"status {actual.status}, documented {expected.status}"
            )
            for name, value in expected.headers:
                got = [v for n, v in actual.headers if n == name]
                assert any(matches(value, v) for v in got), f"header {name}: {got} != {value!r}"
            if outcome.shows_body:
                assert_body_like(expected, actual)
        except (AssertionError, ValueError) as e:
            raise AssertionError(f"{e}{outcome.report}") from e

    @staticmethod
    def response(stdout: str, last_dump: Path) -> tuple[Response, bool]:
        """The example's last response, and whether its body is known (printed)."""
        starts = [m.start() for m in STATUS_LINE.finditer(stdout)]
        if starts:
            return parse_response(stdout[starts[-1] :]), True
        dump = last_dump.read_text("utf-8", "replace")
        head = parse_response(dump[[m.start() for m in STATUS_LINE.finditer(dump)][-1] :])
        try:
            printed = json.loads(stdout)
        except ValueError:
            return head, False
        shows_body = isinstance(printed, dict | list)
        return Response(head.status, head.headers, stdout), shows_body


# --- Tests ---------------------------------------------------------------------------------


def test_every_api_page_is_in_the_site_nav() -> None:
    assert sorted(api_pages()) == sorted(API_DOCS.glob("*.md"))


def test_every_api_example_is_followed_by_its_documented_response() -> None:
    items = story()
    examples = [i for i in items if isinstance(i, Example)]
    assert len(examples) > 50
    assert isinstance(items[0], ServerBlock), "the story must start a server before examples"
    for example in examples:
        assert "curl" in example.fence.text, f"{example.fence.where}: an example uses curl"
    for page in api_pages():
        for fence in fences(page):
            if fence.lang == "http":
                parse_response(fence.text)


@pytest.mark.timeout(STORY_TIMEOUT_SECONDS)
def test_every_api_example_runs_in_order_and_answers_as_documented(
    start_server: Any, tmp_path: Path
) -> None:
    reader = Reader(tmp_path / "reader")
    for item in story():
        if isinstance(item, ServerBlock):
            folder = tmp_path / f"server-{item.port}"
            folder.mkdir()
            server: ServerProcess = start_server(*item.args, database=folder / "parlour.db")
            reader.urls[item.port] = server.url
        else:
            reader.run(item)


def endpoint_sections() -> Iterator[tuple[str, str, str]]:
    """(method, path with `{}` for parameters, section text) for every endpoint heading."""
    for page in api_pages():
        text = page.read_text("utf-8")
        for m in ENDPOINT_HEADING.finditer(text):
            level = len(m.group(1))
            end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(text, m.end())
            section = text[m.end() : end.start() if end else len(text)]
            yield m.group(2), re.sub(r"\{[^}]*\}", "{}", m.group(3)), section


def test_every_endpoint_has_a_section_listing_each_status_it_answers(
    server: ServerProcess,
) -> None:
    document = httpx.get(server.url + "/api/openapi.json", timeout=30).json()
    sections: dict[tuple[str, str], set[int]] = {}
    for method, path, text in endpoint_sections():
        assert (method, path) not in sections, f"{method} {path} is documented twice"
        sections[method, path] = {int(s) for s in STATUS_ROW.findall(text)}
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            key = (method.upper(), re.sub(r"\{[^}]*\}", "{}", path))
            statuses = {int(s) for s in operation["responses"]}
            if key not in sections:
                missing.append(f"{key[0]} {path}: no section")
            elif not statuses <= sections[key]:
                missing.append(f"{key[0]} {path}: no row for {sorted(statuses - sections[key])}")
    assert not missing, "\n".join(missing)


def test_the_operations_guide_names_every_flag_and_environment_variable(tmp_path: Path) -> None:
    guide = (DOCS / "operations.md").read_text("utf-8")
    missing = set()
    for command in ("serve", "backup"):
        shown = subprocess.run(
            [sys.executable, "-m", "parlour", command, "--help"],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
            env={**os.environ, "COLUMNS": "200"},
        ).stdout
        names = set(re.findall(r"--[a-z][a-z-]+|PARLOUR_[A-Z_]+", shown)) - {"--help"}
        missing |= {name for name in names if f"`{name}" not in guide}
    assert not missing, f"docs/operations.md does not mention {sorted(missing)}"


EXTERNAL_ASSET = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//"
    r"|@import\s+[\"']?(?:https?:)?//"
    r"|class=\"mermaid\"",  # Material would fetch mermaid.js from a CDN for these
    re.IGNORECASE,
)


def test_the_site_builds_strictly_and_loads_nothing_from_other_hosts(tmp_path: Path) -> None:
    site = tmp_path / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stderr
    for page in (
        "index.html",
        "api/index.html",
        "operations/index.html",
        "architecture/index.html",
    ):
        assert (site / page).is_file(), f"{page} was not built"
    external = [
        f"{path.relative_to(site)}: {m.group(0)}"
        for path in site.rglob("*")
        if path.suffix in {".html", ".css"}
        for m in EXTERNAL_ASSET.finditer(path.read_text("utf-8", "replace"))
    ]
    assert not external, "assets from other hosts:\n" + "\n".join(external)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_tools_docs_api_serves_the_site_on_localhost() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [str(ROOT / "tools" / "docs-api"), str(port)],
        env={**os.environ, "PARLOUR_VENV": sys.prefix, "NO_MKDOCS_2_WARNING": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                home = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "tools/docs-api exited"
                assert time.monotonic() < deadline, "tools/docs-api did not start serving"
                time.sleep(0.2)
        assert home.status_code == 200
        assert "parlour" in home.text
        events = httpx.get(f"http://127.0.0.1:{port}/api/events/", timeout=5)
        assert events.status_code == 200
        assert "Last-Event-ID" in events.text
    finally:
        proc.terminate()
        proc.wait(20)
