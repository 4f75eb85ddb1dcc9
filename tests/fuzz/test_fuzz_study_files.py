"""Fuzzed study files: each is accepted, or rejected with a StudyError naming its place.

Three generators: the example study with random edits (values of the wrong type,
deleted and unknown keys, duplicated list entries) written as YAML or JSON;
random text; and YAML with the features people stumble over or attackers try
(tags, anchors and aliases, duplicate keys, tabs, BOMs). No other exception may
escape `load_study`, and an accepted study survives its own YAML round trip.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from framelab.domain.errors import StudyError
from framelab.domain.study import load_study
from tests.factories import study_data
from tests.fuzz.support import count, odd_text, report, run_settings

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _containers(data: Any, path: tuple = ()) -> list[tuple]:
    """Paths of every mapping and list inside `data`."""
    out = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list):
                out += _containers(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if isinstance(value, dict | list):
                out += _containers(value, (*path, index))
    return out


def _at(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data


class Mutated(dict):
    """The example study after some edits; its repr lists the edits, not the whole study."""

    def __init__(self, data: dict[str, Any], edits: list[str]) -> None:
        super().__init__(data)
        self.edits = edits

    def __repr__(self) -> str:
        return f"Mutated(edits={self.edits!r})"


@st.composite
def mutated_studies(draw) -> Mutated:
    data = study_data()
    edits: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_containers(data)))
        target = _at(data, path)
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add", "duplicate"]))
        if action == "add" or not keys:
            value = draw(json_values)
            if isinstance(target, dict):
                key = draw(st.text(max_size=10))
                target[key] = value
            else:
                key = len(target)
                target.append(value)
            edits.append(f"add {path}[{key!r}] = {value!r}"[:300])
            continue
        key = draw(st.sampled_from(keys))
        if action == "replace":
            target[key] = draw(json_values)
            edits.append(f"set {path}[{key!r}] = {target[key]!r}"[:300])
        elif action == "delete":
            del target[key]
            edits.append(f"delete {path}[{key!r}]")
        elif isinstance(target, list):
            target.append(target[key])
            edits.append(f"duplicate {path}[{key!r}]")
        else:
            target[f"{key}_copy"] = target[key]
            edits.append(f"copy {path}[{key!r}] to {key}_copy")
    return Mutated(data, edits)


def _text(data: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(dict(data), ensure_ascii=False)
    return yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False)


TRICKY = (
    "!!python/object/apply:os.system ['echo pwned']",
    "slug: !!python/name:os.system\n",
    "a: &a [1, 2]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nslug: [*c, *c, *c]\n",
    "slug: x\nslug: y\n",
    "\ufeffslug: torture-ban\n",
    "slug:\ttabbed\n",
    "- just\n- a list\n",
    "---\nslug: one\n---\nslug: two\n",
    "slug: *undefined\n",
    '{"slug": 1e999}',
    '{"slug": "x", "slug": "y"}',
    "? [complex, key]\n: value\n",
    "slug: !!binary aGVsbG8=\n",
    "%YAML 1.1\n---\nslug: no\n",
)
TRICKY_YAML = st.sampled_from(TRICKY)


def assert_accepted_or_placed(text: str) -> str:
    """load_study(text) gives a Study or a placed StudyError; returns which."""
    count("study-files")
    try:
        study = load_study(text)
    except StudyError as error:
        assert error.errors, "a StudyError without problems"
        for location, message in error.errors:
            assert isinstance(location, str) and isinstance(message, str) and message.strip()
        return "rejected"
    again = load_study(study.to_yaml())
    assert again.content_hash() == study.content_hash()
    return "accepted"


@run_settings(bounded=150, long=2500)
@given(data=mutated_studies(), as_json=st.booleans())
def test_mutated_study_files_are_accepted_or_rejected_with_placed_errors(data, as_json):
    text = _text(data, as_json)
    outcome = assert_accepted_or_placed(text)
    if outcome == "rejected" and isinstance(data, dict):
        # A readable mapping: every problem is placed at a field, not only the whole file.
        try:
            load_study(text)
        except StudyError as error:
            # (An unknown top-level key named "" sits at location "": its message names it.)
            assert any(
                location or message.startswith("unknown field")
                for location, message in error.errors
            ), error.errors


@run_settings(bounded=100, long=1500)
@given(text=st.one_of(st.text(max_size=300), TRICKY_YAML, odd_text))
def test_random_and_tricky_text_is_rejected_with_a_study_error(text):
    assert_accepted_or_placed(text)


def test_yaml_cannot_run_code_or_blow_up(capsys):
    for text in TRICKY:
        assert assert_accepted_or_placed(text) == "rejected", text
    report("study-files", capsys, unit="study files", ok="no exception but StudyError")
