"""SPEC "Names and bodies": what a valid name, body and password is, and when names are equal."""

from __future__ import annotations

import unicodedata

from parlour.errors import InvalidInput

NAME_MAX_CHARS = 64
BODY_MAX_CHARS = 8192
PASSWORD_MIN_CHARS = 8
PASSWORD_MAX_CHARS = 1024
# Control and format characters may not appear in names; line breaks include the Unicode
# separators (Zl, Zp) and NEL, which str.splitlines() treats as line ends.
FORBIDDEN_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
BODY_ALLOWED_CONTROLS = frozenset("\t\r\n")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def normalize_name(raw: str, what: str) -> tuple[str, str]:
    """Validate a user or channel name; return (name as shown, key for comparison).

    The key is the NFKC case-fold, so "Café", "CAFÉ" and "cafe\\u0301" share one key.
    Raises InvalidInput saying what is wrong.
    """
    name = unicodedata.normalize("NFC", raw)
    if not 1 <= len(name) <= NAME_MAX_CHARS:
        raise InvalidInput(f"A {what} name must be 1 to {NAME_MAX_CHARS} characters long.")
    if name[0].isspace() or name[-1].isspace():
        raise InvalidInput(f"A {what} name must not start or end with white space.")
    if any(unicodedata.category(c) in FORBIDDEN_NAME_CATEGORIES for c in name) or (
        len(name.splitlines()) > 1
    ):
        raise InvalidInput(f"A {what} name must not contain control characters or line breaks.")
    return name, name_key(name)


def name_key(name: str) -> str:
    """The form in which two names are compared (SPEC: NFKC case-folded)."""
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
