"""Repeated code inside framelab/ and analysis/ is known and explained (issue 18).

`duplicates` (a code-clone lister some machines have on PATH) pairs places that share six
or more lines. Every pair with both sides in framelab/ or analysis/ must be listed in
`duplicates_allowed.txt` with the reason it stays; a new pair fails here, and so does an
entry whose pair is gone (the list must not grow stale). Rows the tool itself marks as
boilerplate (thin punctuation and keywords, or a shape recurring across a folder) are not
asked about, nor are pairs whose shared lines are docstring text on both sides (numpydoc
parameter descriptions repeat by design, as in pingouin), nor migrations (frozen history
that spells its tables out again by design).
"""

from __future__ import annotations

import ast
import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = Path(__file__).with_name("duplicates_allowed.txt")
PACKAGES = ("framelab/", "analysis/")
ROW = re.compile(
    r"^D\d+ (?P<a>\S+?):(?P<a1>\d+)-(?P<a2>\d+) ~ (?P<b>\S+?):(?P<b1>\d+)-(?P<b2>\d+)(?P<rest>.*)$"
)

pytestmark = pytest.mark.skipif(
    shutil.which("duplicates") is None, reason="the `duplicates` tool is not installed here"
)


def _pair(a: str, b: str) -> tuple[str, str]:
    return tuple(sorted((a, b)))  # type: ignore[return-value]


@functools.cache
def _docstring_lines(path: str) -> frozenset[int]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    lines: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                lines.update(range(value.lineno, value.end_lineno + 1))
    return frozenset(lines)


def _in_docstrings(path: str, first: str, last: str) -> bool:
    if not path.endswith(".py"):
        return False
    return set(range(int(first), int(last) + 1)) <= _docstring_lines(path)


def allowed() -> dict[tuple[str, str], str]:
    entries = {}
    for number, line in enumerate(ALLOWED.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        files, sep, reason = line.partition(": ")
        a, tilde, b = files.partition(" ~ ")
        assert sep and tilde and reason.strip(), f"{ALLOWED.name}:{number}: 'a ~ b: reason'"
        entries[_pair(a.strip(), b.strip())] = reason.strip()
    return entries


def found(tmp: Path) -> set[tuple[str, str]]:
    # The tool lists 200 rows at most, and the tests alone repeat more than that: it reads
    # a copy of the two packages only (source files, no caches), so every row is theirs.
    # Migrations are left out: each is frozen history that spells out its tables again on
    # purpose (it must not import today's models), so they repeat the models by design.
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "migrations"),
        )
    out = subprocess.run(
        ["duplicates", "--repo", str(tmp), "--most", "200", "--seconds", "120"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp,
    ).stdout
    assert "incomplete:" not in out, out
    assert "more pairs)" not in out, "more pairs than --most lists: raise --most"
    pairs = set()
    for line in out.splitlines():
        m = ROW.match(line)
        if not m or "boilerplate" in m["rest"]:
            continue
        if _in_docstrings(m["a"], m["a1"], m["a2"]) and _in_docstrings(m["b"], m["b1"], m["b2"]):
            continue
        if m["a"].startswith(PACKAGES) and m["b"].startswith(PACKAGES):
            pairs.add(_pair(m["a"], m["b"]))
    return pairs


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> set[tuple[str, str]]:
    return found(tmp_path_factory.mktemp("packages"))


def test_every_repeated_place_is_explained(pairs):
    new = sorted(pairs - allowed().keys())
    assert not new, "new repeated code (share it, or explain it in duplicates_allowed.txt):\n" + (
        "\n".join(f"{a} ~ {b}" for a, b in new)
    )


def test_the_allow_list_is_not_stale(pairs):
    gone = sorted(allowed().keys() - pairs)
    assert not gone, "no longer repeated: remove from duplicates_allowed.txt:\n" + (
        "\n".join(f"{a} ~ {b}" for a, b in gone)
    )
