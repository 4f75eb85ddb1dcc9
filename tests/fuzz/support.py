"""Shared pieces of the fuzz tests: value strategies, the run size, counters and DB checks.

FRAMELAB_FUZZ_LONG=1 selects the long run (at least 10,000 generated requests over
the participant and studio fuzzers); the default is a bounded sample for `make test`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from framelab.crypto import decrypt_text
from framelab.db.models import Participant, Response
from framelab.domain.errors import ValueProblem
from framelab.domain.study import Study

LONG = os.environ.get("FRAMELAB_FUZZ_LONG", "").strip().lower() in {"1", "true", "yes", "on"}
REQUESTS = Counter()  # fuzzer name -> requests sent, printed at the end of each test


def run_settings(bounded: int, long: int) -> settings:
    """Hypothesis settings: `bounded` examples in make test, `long` with FRAMELAB_FUZZ_LONG=1."""
    return settings(
        max_examples=long if LONG else bounded,
        deadline=None,
        derandomize=not LONG,  # make test is reproducible; the long run explores
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# Strings people and attackers send: numbers in odd spellings, markup, control
# characters, right-to-left and combining marks, emoji, very long values.
ODD_STRINGS = (
    "",
    " ",
    "0",
    "-1",
    "1",
    "7",
    "8",
    "100",
    "101",
    "-0",
    "+3",
    " 4 ",
    "1.5",
    "1e2",
    "NaN",
    "inf",
    "0x10",
    "٣",
    "３",
    "9" * 40,
    "yes",
    "no",
    "YES",
    "true",
    "null",
    "None",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "\x00",
    "\u202e\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "e\u0301\u0301\u0301",
    "\U0001f600\U0001f4a9",
    "\r\n\r\n",
)
odd_text = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.integers(-(10**15), 10**15).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
# Kept apart and used sparingly: one huge value per form is enough to test limits.
huge_text = st.integers(2_000, 120_000).map(lambda n: "x" * n)


def valid_or_odd(choices: Iterable[str]) -> st.SearchStrategy[str]:
    """Mostly a value the form offers, sometimes anything."""
    options = sorted(set(choices))
    if not options:
        return odd_text
    return st.one_of(st.sampled_from(options), st.sampled_from(options), odd_text)


def form_value(choices: Iterable[str] = ()) -> st.SearchStrategy[Any]:
    """A field's value: one string, or the same field repeated (a list)."""
    one = valid_or_odd(choices)
    return st.one_of(one, one, one, st.lists(one, min_size=0, max_size=3))


def count(name: str, n: int = 1) -> None:
    REQUESTS[name] += n


def report(name: str, capsys, unit: str = "requests", ok: str = "no 5xx") -> None:
    """Print how many inputs a fuzzer generated (shown even when output is captured)."""
    with capsys.disabled():
        mode = "long run" if LONG else "bounded run; FRAMELAB_FUZZ_LONG=1 for the long one"
        print(f"\nfuzz {name}: {REQUESTS[name]:,} generated {unit}, {ok} ({mode})")


def out_of_range_answers(session, spec: Study) -> list[str]:
    """Every stored answer that its item would not accept, described; empty when all are fine."""
    problems = []
    rows = session.execute(
        sa.select(
            Participant.code,
            Response.item_id,
            Response.phase,
            Response.value_int,
            Response.value_text,
        ).join(Participant, Participant.id == Response.participant_id)
    )
    items = {item.id: item for item in spec.items}
    for code, item_id, phase, value_int, value_text in rows:
        item = items.get(item_id)
        where = f"{code[:6]}… {phase}:{item_id}"
        if item is None or not item.in_phase(phase):
            problems.append(f"{where}: no such item in that phase")
            continue
        value_text = decrypt_text(value_text)
        raw = str(value_int) if value_int is not None else value_text
        if value_int is not None and value_text is not None:
            problems.append(f"{where}: both a number and a text stored")
        try:
            accepted = item.validate_value(raw)
        except ValueProblem as problem:
            problems.append(f"{where}: {raw!r} stored but invalid ({problem.code})")
            continue
        if accepted != (value_int if value_int is not None else value_text):
            problems.append(f"{where}: {raw!r} stored, the item reads it as {accepted!r}")
    return problems
