"""Pure rules: names and their normalisation, bodies, passwords, durations, ids, times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parlour.config import format_duration, parse_duration
from parlour.domain.names import name_key, normalize_name, validate_body, validate_password
from parlour.errors import InvalidInput
from parlour.model import format_time, is_well_formed_id, new_id


@pytest.mark.parametrize(
    "spelling", ["Café", "CAFÉ", "cafe\u0301", "café", "\uff23\uff21\uff26\uff25\u0301"]
)
def test_names_that_fold_alike_are_the_same_name(spelling: str) -> None:
    assert normalize_name(spelling, "channel")[1] == name_key("café")


def test_a_name_is_shown_as_typed_after_nfc() -> None:
    assert normalize_name("cafe\u0301 Club", "channel")[0] == "café Club"


@pytest.mark.parametrize(
    "bad",
    ["", " lead", "trail ", "\ttab", "a\nb", "a\rb", "zero\u200bwidth", "bell\x07", "x" * 65,
     "line\u2028sep", "nel\x85"],
)  # fmt: skip
def test_invalid_names_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_name(bad, "user")


# Names people really have (issue 10): emoji sequences joined by U+200D (with U+FE0F
# variation selectors), Persian with a zero-width non-joiner U+200C, and a subdivision flag
# spelled with tag characters U+E0067 U+E0062 U+E0073 U+E0063 U+E0074 U+E007F.
ORDINARY_NAMES = {
    "technologist": "\U0001f469\u200d\U0001f4bb",
    "climber": "\U0001f9d7\u200d\u2642\ufe0f",
    "rainbow-flag": "\U0001f3f3\ufe0f\u200d\U0001f308",
    "persian-zwnj": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "scotland-flag": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "in-a-sentence": "Ada \U0001f469\u200d\U0001f4bb Lovelace",
}


@pytest.mark.parametrize("name", ORDINARY_NAMES.values(), ids=list(ORDINARY_NAMES))
def test_names_with_joiners_non_joiners_and_tag_characters_are_accepted(name: str) -> None:
    assert normalize_name(name, "user") == (name, name_key(name))


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("zero\u200bwidth", "U+200B (ZERO WIDTH SPACE)"),
        ("\ufeffbom", "U+FEFF (ZERO WIDTH NO-BREAK SPACE)"),
        ("evil\u202etxt.exe", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("isolate\u2066x\u2069", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
        ("soft\u00adhyphen", "U+00AD (SOFT HYPHEN)"),
        ("tag\U000e0001", "U+E0001 (LANGUAGE TAG)"),
        ("bell\x07", "U+0007"),
        ("a\nb", "U+000A"),
        ("line\u2028sep", "U+2028 (LINE SEPARATOR)"),
    ],
    ids=["zwsp", "bom", "rlo", "isolate", "soft-hyphen", "language-tag", "bell", "lf", "ls"],
)
def test_other_format_and_control_characters_are_refused_by_name(bad: str, named: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(named)):
        normalize_name(bad, "user")


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("x" * 65, "1 to 64 characters long (this one has 65)"),
        ("", "1 to 64 characters long (this one is empty)"),
        (" lead", "must not start with white space: it starts with U+0020 (SPACE)"),
        ("trail\u3000", "must not end with white space: it ends with U+3000 (IDEOGRAPHIC SPACE)"),
        ("\ttab", "must not contain a control character: it holds U+0009"),
        ("a\rb", "must not contain a line break: it holds U+000D"),
    ],
    ids=["65", "empty", "leading-space", "trailing-ideographic-space", "tab", "cr"],
)
def test_a_refused_name_is_told_precisely_what_is_wrong(bad: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(says)):
        normalize_name(bad, "channel")


def test_a_name_of_64_characters_is_accepted_and_counted_after_nfc() -> None:
    assert normalize_name("é" * 64, "user")[0] == "é" * 64
    assert normalize_name("e\u0301" * 64, "user")[0] == "é" * 64


@given(st.text(min_size=1, max_size=80))
def test_every_accepted_name_obeys_the_rules(raw: str) -> None:
    try:
        shown, key = normalize_name(raw, "user")
    except InvalidInput:
        return
    assert 1 <= len(shown) <= 64
    assert not shown[0].isspace()
    assert not shown[-1].isspace()
    assert key == name_key(shown)
    assert len(shown.splitlines()) == 1


def test_bodies_keep_tabs_and_line_breaks_and_are_nfc() -> None:
    assert validate_body("a\tb\r\nc\u0301") == "a\tb\r\nć"


@pytest.mark.parametrize("bad", ["", " \n\t ", "nul\x00", "esc\x1b[31m", "x" * 8193])
def test_invalid_bodies_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        validate_body(bad)


def test_a_body_of_8192_code_points_is_accepted() -> None:
    assert len(validate_body("😀" * 8192)) == 8192


def test_lone_surrogates_are_refused_in_bodies_and_passwords() -> None:
    with pytest.raises(InvalidInput):
        validate_body("broken \ud800 text")
    with pytest.raises(InvalidInput):
        validate_password("password\udfff")


@pytest.mark.parametrize(("length", "ok"), [(7, False), (8, True), (1024, True), (1025, False)])
def test_password_length_limits(length: int, ok: bool) -> None:
    if ok:
        assert validate_password("p" * length) == "p" * length
    else:
        with pytest.raises(InvalidInput):
            validate_password("p" * length)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("24h", 86400), ("90d", 90 * 86400), ("45", 45), (" 2s ", 2)],
)
def test_durations_parse(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["5x", "", "s", "-1s", "0s", "1.5s", "1 day", "10000000000000d"])
def test_bad_durations_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@given(st.integers(min_value=1, max_value=10**8))
def test_durations_round_trip_through_their_shortest_spelling(seconds: int) -> None:
    d = timedelta(seconds=seconds)
    assert parse_duration(format_duration(d)) == d


def test_ids_have_a_prefix_and_at_least_16_url_safe_random_characters() -> None:
    ids = {new_id("M") for _ in range(1000)}
    assert len(ids) == 1000
    for i in ids:
        assert re.fullmatch(r"M[A-Za-z0-9_-]{16,}", i)
        assert is_well_formed_id(i, "M")
        assert not is_well_formed_id(i, "C")


@pytest.mark.parametrize("bad", ["", "C", "Cshort", "C" + "a" * 15, "C" + "é" * 20, "C" + "a/" * 9])
def test_malformed_ids_are_recognised(bad: str) -> None:
    assert not is_well_formed_id(bad, "C")


def test_times_are_rfc3339_utc_with_milliseconds_and_z() -> None:
    at = datetime(2026, 11, 26, 3, 4, 5, 123456, tzinfo=UTC)
    assert format_time(at) == "2026-11-26T03:04:05.123Z"
