"""What a valid name, body and password is, and when names are equal (docs/api/index.md)."""

from __future__ import annotations

import unicodedata

from parlour.errors import InvalidInput

# The limits are counted in code points after NFC (docs/api/index.md, "Names and bodies"). The
# OpenAPI document publishes them (as maxLength/minLength) for clients to read, so that no
# client copies them by hand.
NAME_MAX_CHARS = 64
BODY_MAX_CHARS = 8192
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 1024
# Control (Cc) and format (Cf) characters may not appear in names: a bidirectional override
# or a zero-width space makes one name look like another. Surrogates (Cs) are not text.
FORBIDDEN_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
# ... except the format characters that ordinary names need (issue 10): the zero-width joiner
# inside emoji sequences (👩‍💻, 🏳️‍🌈), the zero-width non-joiner of Persian and other
# scripts, and the tag characters of subdivision flags (🏴󠁧󠁢󠁳󠁣󠁴󠁿).
ALLOWED_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"}) | frozenset(
    map(chr, range(0xE0020, 0xE0080))
)
# Line breaks: those str.splitlines() ends a line at. Most are Cc; the Unicode line and
# paragraph separators (Zl, Zp) are not.
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
BODY_ALLOWED_CONTROLS = frozenset("\t\r\n")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def describe(c: str) -> str:
    """A character as a reader can find it: `U+200B (ZERO WIDTH SPACE)`, or `U+0007`."""
    name = unicodedata.name(c, "")
    return f"U+{ord(c):04X} ({name})" if name else f"U+{ord(c):04X}"


def _forbidden_in_name(c: str) -> str | None:
    """What kind of character `c` is, if a name may not hold it; None if it may."""
    if c in LINE_BREAKS:
        return "a line break"
    category = unicodedata.category(c)
    if category == "Cs":
        return "a lone surrogate (not text)"
    if category in FORBIDDEN_NAME_CATEGORIES and c not in ALLOWED_FORMAT_CHARACTERS:
        return "a control character" if category == "Cc" else "an invisible format character"
    return None


def normalize_name(raw: str, what: str) -> tuple[str, str]:
    """Validate a user or channel name; return (name as shown, key for comparison).

    The rule is docs/api/index.md's "Names and bodies". The key is the NFKC case-fold, so
    "Café", "CAFÉ" and "cafe\\u0301" share one key. Raises InvalidInput saying what is wrong,
    naming the offending character.
    """
    name = unicodedata.normalize("NFC", raw)
    if not 1 <= len(name) <= NAME_MAX_CHARS:
        has = f"has {len(name)}" if name else "is empty"
        raise InvalidInput(
            f"A {what} name must be 1 to {NAME_MAX_CHARS} characters long (this one {has})."
        )
    for c in name:
        kind = _forbidden_in_name(c)
        if kind is not None:
            raise InvalidInput(f"A {what} name must not contain {kind}: it holds {describe(c)}.")
    if name[0].isspace():
        raise InvalidInput(
            f"A {what} name must not start with white space: it starts with {describe(name[0])}."
        )
    if name[-1].isspace():
        raise InvalidInput(
            f"A {what} name must not end with white space: it ends with {describe(name[-1])}."
        )
    return name, name_key(name)


def name_key(name: str) -> str:
    """The form in which two names are compared: NFKC case-folded (docs/api/index.md)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def validate_body(raw: str) -> str:
    """A message body after NFC; raises InvalidInput if empty, too long, blank or controlled."""
    body = unicodedata.normalize("NFC", raw)
    if not 1 <= len(body) <= BODY_MAX_CHARS:
        raise InvalidInput(f"A message must be 1 to {BODY_MAX_CHARS} characters long.")
    if body.isspace():
        raise InvalidInput("A message must contain something other than white space.")
    if _has_surrogate(body):
        raise InvalidInput("A message must be valid Unicode text (it holds a lone surrogate).")
    if any(unicodedata.category(c) == "Cc" and c not in BODY_ALLOWED_CONTROLS for c in body):
        raise InvalidInput(
            "A message must not contain control characters (other than tab and line breaks)."
        )
    return body


def validate_password(raw: str) -> str:
    if not PASSWORD_MIN_CHARS <= len(raw) <= PASSWORD_MAX_CHARS:
        raise InvalidInput(
            f"A password must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters long."
        )
    if _has_surrogate(raw):
        raise InvalidInput("A password must be valid Unicode text (it holds a lone surrogate).")
    return raw
