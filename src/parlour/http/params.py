"""Integers a client sends in the URL or the headers, bounded by what the store can hold."""

from __future__ import annotations

from collections.abc import Mapping

from parlour.errors import InvalidInput

# The largest integer the store keeps (signed 64-bit, in SQLite and PostgreSQL alike). A
# larger one reached SQLite as an OverflowError, a 500 (issue 10).
MAX_STORED_INT = 2**63 - 1
# Digits of MAX_STORED_INT: a longer numeral is refused before int() sees it (int() of a
# 4,301-digit string raises ValueError, another 500; issue 10).
MAX_DIGITS = len(str(MAX_STORED_INT))
# How much of a refused value the error repeats back.
SHOWN_CHARACTERS = 40


def non_negative_int(text: str, what: str) -> int:
    """`text` as an integer from 0 to 2^63 - 1, in at most 19 ASCII digits (no sign, no
    space). Raises InvalidInput, naming `what` ("the resume_point parameter"), otherwise.

    Every integer a client sends passes through here before it can reach the store.
    """
    if (
        text.isascii()
        and text.isdigit()
        and len(text) <= MAX_DIGITS
        and int(text) <= MAX_STORED_INT
    ):
        return int(text)
    shown = text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "…"
    raise InvalidInput(f"The {what} must be a non-negative integer below 2^63, not {shown!r}.")


def optional_int(query: Mapping[str, str], name: str) -> int | None:
    """The query parameter `name` as a non-negative integer, or None when it is absent.

    Raises InvalidInput for any other value (an empty one included).
    """
    value = query.get(name)
    return None if value is None else non_negative_int(value, f"{name} parameter")
