"""Fuzzing the API with schemathesis, against its own /api/openapi.json (issue 6).

Every operation of the document is called with data generated from its schema (valid and
invalid), with no session and with a logged-in one; then schemathesis walks chains of calls
(an invite issued, then accepted; a channel created, sent to, deleted…) statefully. Every
answer must be: not a 5xx; documented for that operation (status, media type, body schema);
and, for an error, a problem document whose `status` is the answer's.

Bounded: a few dozen examples per operation (PARLOUR_SOAK=1: a few hundred).

Regression (issue 6): the document described the event stream as one string, where
OpenAPI before 3.2 has the schema of a text/event-stream describe each event; the fuzzer
then failed every stream it read. It now describes each event (`ServerSentEvent`).

The request bodies carry parlour's input limits (issue 10): `maxLength` and `minLength`,
counted as parlour counts them, in code points after NFC. So invalid data generated to break
them is rejected with 400, or with 413 when it no longer fits in 65,536 bytes (a rejection
too); and a string made too long only before NFC (`e` + U+0301 is one character after it)
is valid input that parlour rightly accepts.
"""

from __future__ import annotations

import json
import secrets
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from reliability_figures import SOAK, record
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.engine.errors import is_inconsistent_replay
from schemathesis.generation import GenerationMode

# Imported here, at the shallow stack of collection, not lazily deep inside a fixture: there,
# CPython 3.11's AST conversion (pytest rewrites the asserts of schemathesis, a pytest plugin)
# failed with "SystemError: AST constructor recursion depth mismatch" on this big module.
from schemathesis.specs.openapi.adapter import parameters as _parameters  # noqa: F401
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import ServerProcess
from parlour.http.routes import API, openapi_path
from parlour_client import ParlourClient, invite_user
from raw_http import exchange

EXAMPLES = 300 if SOAK else 50
STATEFUL_EXAMPLES = 200 if SOAK else 15
# Runs cut short by a flaky replay (see the stateful test) are followed by new ones, this many.
MAX_STATEFUL_RUNS = 5
# An event stream never ends: schemathesis reads it until this many seconds have passed.
STREAM_SECONDS = 2
REQUEST_SECONDS = 60
# As the document names them: `{emoji}`, not the route's `{emoji:path}`.
OPERATIONS = [f"{method} {openapi_path(path)}" for path, method, *_ in API]
# schemathesis's own list of statuses that reject invalid data, plus 413: data generated to be
# invalid can also be too large to read at all.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
# Huge login limits (per name, and per address over all names): the fuzzer fails many
# logins, and 429 is not what it looks for.
LOGIN_LIMITS = ["--login-failures", "100000", "--login-address-failures", "100000"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
)


@dataclass
class Site:
    server: ServerProcess
    schema: Any
    owner_token: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    def fresh_token(self) -> str:
        """A new session of the owner (for calls that end the session they are made with)."""
        with ParlourClient(self.server.url, timeout=REQUEST_SECONDS) as c:
            c.log_in()
            return c.token


def fresh_site(database: Path) -> tuple[ServerProcess, str]:
    """A server on a new database with the owner, Bob and a message, and the owner's session:
    the module's server, and each scenario of the stateful test, start from this state."""
    server = ServerProcess(database, ["--heartbeat", "1s", *LOGIN_LIMITS]).start()
    try:
        owner = server.set_up()
        bob = invite_user(server, owner, "Bob")
        bob.send_message(owner.create_channel("general")["id"], "hello from Bob")
    except BaseException:
        server.close()
        raise
    return server, owner.token


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    server, token = fresh_site(tmp_path_factory.mktemp("fuzzing") / "parlour.db")
    try:
        schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json", config=CONFIG)
        yield Site(server, schema, token)
        output = "".join(server.output)
        assert "Traceback" not in output, output[-3000:]
        assert "unexpected error" not in output, output[-3000:]
    finally:
        server.close()


def is_problem_with_its_status(response: Any) -> None:
    """An error answer is an RFC 9457 problem document naming its own status."""
    status = response.status_code
    assert status < 500, f"{status}: {response.text[:500]}"
    if status < 400:
        return
    media_type = response.headers.get("content-type", "")
    media_type = media_type[0] if isinstance(media_type, list) else media_type
    assert media_type.split(";")[0].strip() == "application/problem+json", media_type
    body = json.loads(response.content)
    assert body["status"] == status, body
    assert body["type"] == "about:blank", body
    assert isinstance(body["title"], str), body
    assert body["title"], body
    assert isinstance(body["detail"], str), body
    assert body["detail"].strip(), body


CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def is_valid_after_nfc(case: Case[Any]) -> bool:
    """Whether the case's JSON body is valid input once its strings are NFC-normalised, as
    parlour reads them: every property of the request schema a string within its length
    limits (every request body of parlour's is a flat object of strings)."""
    body = case.body
    request = case.operation.definition.raw.get("requestBody")
    if request is None or not isinstance(body, dict):
        return False
    reference = request["content"]["application/json"]["schema"]["$ref"]
    components = case.operation.schema.raw_schema["components"]["schemas"]
    schema = components[reference.rsplit("/", 1)[1]]
    for name, limits in schema["properties"].items():
        value = body.get(name)
        if not isinstance(value, str):
            return False
        length = len(unicodedata.normalize("NFC", value))
        if not limits.get("minLength", 0) <= length <= limits.get("maxLength", length):
            return False
    return True


def checks_for(case: Case[Any], response: Any) -> list[Any]:
    if response.status_code < 400 and is_valid_after_nfc(case):
        return [check for check in CHECKS if check is not negative_data_rejection]
    return CHECKS


def call_and_check(site: Site, case: Case[Any], token: str | None) -> None:
    if token is not None:
        # Into the case itself, so that schemathesis knows the cookie it sent is valid.
        if case.cookies is None:
            case.cookies = {}
        case.cookies["identity"] = token
    timeout = STREAM_SECONDS if case.operation.path == "/api/events" else REQUEST_SECONDS
    response = case.call(base_url=site.server.url, timeout=timeout)
    with site.lock:
        site.statuses[response.status_code] += 1
        site.calls[case.operation.label] += 1
    is_problem_with_its_status(response)
    case.validate_response(response, checks=checks_for(case, response))


@pytest.mark.parametrize("who", ["anonymous", "owner"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_answers_as_documented_to_generated_input(
    site: Site, operation: str, who: str
) -> None:
    method, path = operation.split(" ", 1)
    api_operation = site.schema[path][method]
    strategy = st.one_of(
        api_operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        api_operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=strategy)
    def fuzz(case: Case[Any]) -> None:
        token = None
        if who == "owner":
            # Logging out ends the session it is made with; so might a password change.
            ends_session = operation in ("POST /api/auth/logout", "POST /api/password")
            token = site.fresh_token() if ends_session else site.owner_token
        call_and_check(site, case, token)

    before = site.calls[operation]
    fuzz()
    record(
        "fuzzing (schemathesis)",
        operations_fuzzed=1,
        generated_requests=site.calls[operation] - before,
        answers_5xx=0,
    )


def test_chains_of_calls_answer_as_documented(
    site: Site, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each scenario runs against a server of its own, started from the same state, so that
    what one chain does (log the owner out, take a channel's name) cannot change the next.

    Regression: the run failed CI with Hypothesis's FlakyStrategyDefinition and no wrong
    answer. Schemathesis draws, with true randomness outside Hypothesis's record, whether a
    step follows a link's value or generates its own, and the choice changes what is drawn
    next; so when Hypothesis replays or mutates an earlier scenario, the replay can take
    another path, and Hypothesis calls the data generation flaky. Schemathesis's own runner
    therefore judges a run by the failures its checks saw as they happened, not by whether
    a replay reproduced them; this test does the same: every failed check and every server
    traceback is kept when it happens and fails the test, and a flaky replay with none
    kept only ends that run early (a new one is started until the scenarios are done)."""
    workflow = site.schema.as_state_machine()
    failures: list[str] = []
    scenarios = 0

    # The base class is built at run time from the document, so mypy cannot know it.
    class Workflow(workflow):  # type: ignore[misc, valid-type]
        server: ServerProcess
        token: str

        def setup(self) -> None:
            nonlocal scenarios
            scenarios += 1
            database = tmp_path_factory.mktemp("chain") / "parlour.db"
            self.server, self.token = fresh_site(database)

        def teardown(self) -> None:
            self.server.close()
            output = "".join(self.server.output)
            if "Traceback" in output or "unexpected error" in output:
                failures.append(f"the server logged an error:\n{output[-3000:]}")
                raise AssertionError(failures[-1])

        def before_call(self, case: Case[Any]) -> None:
            # Into the case itself, so that schemathesis knows the cookie it sent is valid.
            if case.cookies is None:
                case.cookies = {}
            case.cookies["identity"] = self.token

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            timeout = STREAM_SECONDS if case.operation.path == "/api/events" else REQUEST_SECONDS
            return {"base_url": self.server.url, "timeout": timeout}

        def validate_response(self, response: Any, case: Case[Any], **kwargs: Any) -> None:
            with site.lock:
                site.statuses[response.status_code] += 1
                site.calls["stateful"] += 1
            try:
                is_problem_with_its_status(response)
                case.validate_response(response, checks=checks_for(case, response))
            except Exception as failure:
                failures.append(
                    f"{case.operation.label} path={case.path_parameters} query={case.query} "
                    f"body={case.body!r} -> {response.status_code} {response.text[:500]}\n"
                    f"{failure!r}"
                )
                raise

    before = site.calls["stateful"]
    for _ in range(MAX_STATEFUL_RUNS):
        try:
            Workflow.run(
                settings=settings(
                    max_examples=STATEFUL_EXAMPLES - scenarios,
                    stateful_step_count=8,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                )
            )
        except Exception as error:
            if failures:
                raise AssertionError("\n\n".join(failures)) from error
            if not (isinstance(error, Flaky) or is_inconsistent_replay(error)):
                raise
        if scenarios >= STATEFUL_EXAMPLES:
            break
    assert not failures, "\n\n".join(failures)
    record(
        "fuzzing (schemathesis)",
        stateful_scenarios=scenarios,
        stateful_requests=site.calls["stateful"] - before,
    )


# Emoji paths as a client could send them, raw: percent-encoded slashes and dots, broken
# escapes, invalid UTF-8, control characters, a path segment too many.
EMOJI_PATHS = [
    "%F0%9F%91%8D", "a%2Fb", "a/b", "a%2fb/c", "%2E%2E", "..%2F..%2F", "./x", "%00", "%0A",
    "%FF", "%C0%AF", "%ED%A0%80", "%E2%80%AE", "%ZZ", "%", "%2", "%20x", "x%20y", "+1", "%2B1",
    "a%252F", "~", "x" * 5000, "",
]  # fmt: skip


def test_taking_back_a_reaction_by_any_emoji_path_never_answers_5xx(site: Site) -> None:
    """DELETE /api/messages/{id}/reactions/{emoji}: the emoji is a path segment (percent-
    encoded), so any bytes can arrive there; each answer is the removal or a problem."""
    with ParlourClient(site.server.url, token=site.owner_token) as owner:
        channel = owner.create_channel(f"emoji paths {secrets.token_hex(4)}")["id"]
        message = owner.send_message(channel, "react to me")["id"]
        for emoji in ("a/b", "👍", "+1", " x", "x y"):
            reply = owner.post(f"/api/messages/{message}/reactions", json={"emoji": emoji})
            assert reply.status_code == 202, reply.text
    for path in EMOJI_PATHS:
        request = (
            f"DELETE /api/messages/{message}/reactions/{path} HTTP/1.1\r\nHost: parlour\r\n"
            f"Cookie: identity={site.owner_token}\r\nConnection: close\r\n\r\n"
        ).encode()
        answer = exchange(site.server.url, request)
        assert answer.status < 500, (path, answer.status, answer.body[:300])
        if answer.status != 202:
            answer.problem(answer.status)
    # Each emoji added was taken back by one of the paths that spells it.
    with ParlourClient(site.server.url, token=site.owner_token) as owner:
        left = next(m for m in owner.all_messages(channel) if m["id"] == message)
    assert left["reactions"] == []
    record("fuzzing (schemathesis)", emoji_paths_checked=len(EMOJI_PATHS))
