"""Write src/parlour/store/unicode61.py: SQLite's unicode61 tokenizer, as tables for Python.

    .venv/bin/python tools/unicode61.py            # rewrite the module
    .venv/bin/python tools/unicode61.py --check    # exit 1 if it differs from SQLite's

parlour's search splits and folds text in Python exactly as SQLite's FTS5 `unicode61`
tokenizer does with `remove_diacritics 2` (store/words.py says why). The rules are SQLite's
own tables, so they are read from SQLite itself rather than from Python's `unicodedata` (a
different Unicode version, and different choices: SQLite folds `ø` to itself, and treats code
points its tables do not know as letters). For every code point, an FTS5 table indexes
"a<c>a" and reports what came out: two words "a" (the code point separates words), or one
word "a<f>a" (it belongs to words and folds to f, possibly to nothing).
tests/store/test_words.py runs the same comparison against the installed SQLite.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from parlour.store.sqlite import driver

OUT = Path(__file__).resolve().parents[1] / "src" / "parlour" / "store" / "unicode61.py"
SURROGATES = range(0xD800, 0xE000)
# Code points per indexed row: "a<c>a" for each, separated by spaces.
PER_ROW = 2000


def code_points() -> Iterator[int]:
    return (cp for cp in range(0x110000) if cp not in SURROGATES)


def probe() -> tuple[list[int], dict[int, str]]:
    """(code points that separate words, {code point: its fold} where the fold differs)."""
    conn = driver.connect(":memory:", isolation_level=None)
    conn.execute(
        "CREATE VIRTUAL TABLE t USING fts5(b, content='', tokenize='unicode61 remove_diacritics 2')"
    )
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    points = list(code_points())
    rows = [points[i : i + PER_ROW] for i in range(0, len(points), PER_ROW)]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO t (rowid, b) VALUES (?, ?)",
        ((n, " ".join("a" + chr(cp) + "a" for cp in row)) for n, row in enumerate(rows)),
    )
    conn.execute("COMMIT")
    words: dict[int, list[tuple[int, str]]] = {}
    for term, doc, _, offset in conn.execute("SELECT term, doc, col, offset FROM v"):
        words.setdefault(doc, []).append((offset, term))
    separators: list[int] = []
    folds: dict[int, str] = {}
    for n, row in enumerate(rows):
        terms = [term for _, term in sorted(words[n])]
        i = 0
        for cp in row:
            if terms[i] == "a":  # "a", "a": the code point split the word
                assert terms[i + 1] == "a", (hex(cp), terms[i : i + 2])
                separators.append(cp)
                i += 2
            else:
                term = terms[i]
                assert len(term) >= 2, hex(cp)
                assert term[0] == term[-1] == "a", hex(cp)
                if term[1:-1] != chr(cp):
                    folds[cp] = term[1:-1]
                i += 1
        assert i == len(terms)
    return separators, folds


def ranges(points: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in sorted(points):
        if out and out[-1][1] == cp - 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def module_text(separators: list[int], folds: dict[int, str]) -> str:
    lines = [
        '"""SQLite\'s unicode61 tokenizer (remove_diacritics 2) as tables: generated, do not edit.',
        "",
        "Written by tools/unicode61.py from SQLite's own FTS5; store/words.py",
        "uses it. Surrogates (never in SQLite's text) count as separators.",
        '"""',
        "",
        "# [first, last] code points that separate words; every other code point is part of one.",
        "SEPARATORS: tuple[tuple[int, int], ...] = (",
    ]
    lines += [f"    (0x{a:04X}, 0x{b:04X})," for a, b in ranges([*separators, *SURROGATES])]
    lines += [
        ")",
        "",
        "# How a code point inside a word is folded (lower case, diacritics removed), where it",
        '# changes: "" drops it (a combining accent).',
        "FOLDS: dict[int, str] = {",
    ]
    # !a (ascii): escapes, so that no look-alike letter hides in the source.
    lines += [f"    0x{cp:04X}: {folds[cp]!a}," for cp in sorted(folds)]
    lines += ["}", ""]
    return "\n".join(lines)


def formatted(text: str) -> str:
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "format", "--stdin-filename", str(OUT), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    text = formatted(module_text(*probe()))
    if args.check:
        same = OUT.read_text() == text
        print("store/unicode61.py is " + ("SQLite's" if same else "NOT SQLite's: rewrite it"))
        return 0 if same else 1
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
