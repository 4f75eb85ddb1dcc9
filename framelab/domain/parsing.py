"""Reading study text: bounded before it is built, YAML 1.2-style booleans, JSON, and
pydantic errors in our style.

Study text comes from anyone with a studio account (upload, YAML editor) and from
the CLI. PyYAML shares aliased objects, but validation and the canonical JSON walk
every reference, so a small text with aliases (billion laughs, one long list
referenced thousands of times) or deep nesting would take minutes, gigabytes or a
RecursionError. The text is therefore walked as a stream of events first
(``yaml.parse``; a token scan for JSON) and refused, before anything is built, when
it passes any of the limits below. Each refusal names its line and column.

Public API::

    parse_study_text(text: str) -> Any        # raises StudyError on bad or oversized YAML/JSON
    errors_from_validation(exc, root) -> list[tuple[str, str]]
    MAX_TEXT_CHARS, MAX_ALIASES, MAX_NODES, MAX_DEPTH
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any, NoReturn

import yaml
from pydantic import BaseModel, ValidationError

from framelab.domain.errors import StudyError, format_loc, join_loc

# A study file is tens of kilobytes; these limits are far above any real one.
MAX_TEXT_CHARS = 2_000_000
MAX_ALIASES = 200  # `*name` references; a translator may reuse labels, never thousands
MAX_NODES = 50_000  # values, every alias expanded (the example study: 1,029; 50,000 take ~0.6 s)
MAX_DEPTH = 32  # levels of nesting, aliases expanded (the example study has 6)
MAX_NUMBER_CHARS = 100  # a number's characters: int() of a 5,000-digit one is refused late

# libyaml's parser when present: the example study loads about ten times faster.
_SafeBase: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Yaml12Loader(_SafeBase):
    """Safe loader whose booleans are only true/false (YAML 1.2).

    Campaigners write option labels like ``No`` and language codes like ``no``;
    YAML 1.1 would turn them into False.
    """


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

# A plain scalar made of number characters (what the int and float resolvers may take).
_NUMBERLIKE = re.compile(r"[-+0-9_.:eExXoObBa-fA-F]+")
# JSON tokens: a string, a bracket, or a bare value (number, true, false, null, NaN).
_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[\[{]|[\]}]|[^\s"\[\]{},:]+')
# What no database column can hold: NUL (PostgreSQL text) and lone surrogates (not UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def parse_study_text(text: str) -> Any:
    """Parse YAML or JSON (JSON when the text starts with ``{``); raises StudyError.

    The text is refused before anything is built when it is longer than
    MAX_TEXT_CHARS, uses more than MAX_ALIASES aliases, would hold more than
    MAX_NODES values once aliases are expanded, nests deeper than MAX_DEPTH, or
    writes a number longer than MAX_NUMBER_CHARS; text values that no database
    can store (NUL, lone surrogates) are refused with their location.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise StudyError(
            [
                (
                    "",
                    f"the study text has {len(text):,} characters; at most {MAX_TEXT_CHARS:,} are read",
                )
            ]
        )
    is_json = text.lstrip().startswith("{")
    try:
        if is_json:
            _check_json_tokens(text)
            data = json.loads(text)
        else:
            _check_yaml_events(text)
            data = yaml.load(text, Loader=_Yaml12Loader)  # SafeLoader subclass: no objects
    except StudyError:
        raise
    except json.JSONDecodeError as exc:
        raise StudyError(
            [("", f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise StudyError([("", f"not valid YAML: {where}{problem}")]) from None
    except (ValueError, RecursionError) as exc:  # a last guard: the scans above refuse these
        kind = "JSON" if is_json else "YAML"
        raise StudyError([("", f"not valid {kind}: {type(exc).__name__}: {exc}"[:300])]) from None
    _check_storable(data)
    return data


def _refuse(kind: str, line: int, column: int, problem: str) -> NoReturn:
    raise StudyError([("", f"{kind} refused at line {line}, column {column}: {problem}")])


def _check_yaml_events(text: str) -> None:
    """Walk the event stream (nothing is built) and refuse what would blow up once built."""
    aliases = 0
    total = 0  # values so far, every alias expanded
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, levels) of its node
    # One entry per open mapping or sequence: [anchor, values inside it, its levels].
    open_nodes: list[list[Any]] = []
    for event in yaml.parse(text, Loader=_Yaml12Loader):
        mark = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                _refuse(
                    "YAML",
                    mark.line + 1,
                    mark.column + 1,
                    f"more than {MAX_ALIASES} aliases (*{event.anchor}); write the repeated "
                    "text out instead",
                )
            if event.anchor not in anchors:
                inside = any(node[0] == event.anchor for node in open_nodes)
                _refuse(
                    "YAML",
                    mark.line + 1,
                    mark.column + 1,
                    f"the alias *{event.anchor} is inside the node it names (a loop)"
                    if inside
                    else f"the alias *{event.anchor} names no anchor (&{event.anchor}) above it",
                )
            values, levels = anchors[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            if (
                event.implicit[0]
                and len(event.value) > MAX_NUMBER_CHARS
                and _NUMBERLIKE.fullmatch(event.value)
            ):
                _refuse(
                    "YAML",
                    mark.line + 1,
                    mark.column + 1,
                    f"a number of {len(event.value):,} characters (at most {MAX_NUMBER_CHARS})",
                )
            values, levels = 1, 0
        elif isinstance(event, yaml.CollectionStartEvent):
            total += 1
            if len(open_nodes) + 1 > MAX_DEPTH:
                _refuse(
                    "YAML",
                    mark.line + 1,
                    mark.column + 1,
                    f"nested more than {MAX_DEPTH} levels deep",
                )
            if total > MAX_NODES:
                _refuse_nodes("YAML", mark.line + 1, mark.column + 1)
            open_nodes.append([event.anchor, 1, 1])
            continue
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, values, levels = open_nodes.pop()
            if anchor is not None:
                anchors[anchor] = (values, levels)
            if open_nodes:
                parent = open_nodes[-1]
                parent[1] += values
                parent[2] = max(parent[2], levels + 1)
            continue
        else:  # stream and document start/end
            continue
        # A scalar or an alias: a value of `values` nodes, `levels` deep, in the open node.
        total += values
        if total > MAX_NODES:
            _refuse_nodes("YAML", mark.line + 1, mark.column + 1)
        if len(open_nodes) + levels > MAX_DEPTH:
            _refuse(
                "YAML", mark.line + 1, mark.column + 1, f"nested more than {MAX_DEPTH} levels deep"
            )
        if isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            anchors[event.anchor] = (1, 0)
        if open_nodes:
            open_nodes[-1][1] += values
            open_nodes[-1][2] = max(open_nodes[-1][2], levels + 1)


def _refuse_nodes(kind: str, line: int, column: int) -> NoReturn:
    _refuse(
        kind,
        line,
        column,
        f"the study would hold more than {MAX_NODES:,} values once its aliases are expanded "
        "(a study file holds a few thousand; is an alias repeating a long list?)",
    )


def _check_json_tokens(text: str) -> None:
    """Count values and nesting on JSON's tokens (json.loads recurses, pydantic walks all)."""
    depth = 0
    values = 0
    for token in _JSON_TOKEN.finditer(text):
        first = token.group()[0]
        if first in "]}":
            depth -= 1
            continue
        values += 1
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                _refuse(
                    "JSON",
                    *_line_column(text, token.start()),
                    f"nested more than {MAX_DEPTH} levels deep",
                )
        elif first != '"' and len(token.group()) > MAX_NUMBER_CHARS:
            _refuse(
                "JSON",
                *_line_column(text, token.start()),
                f"a number of {len(token.group()):,} characters (at most {MAX_NUMBER_CHARS})",
            )
        if values > MAX_NODES:
            _refuse(
                "JSON",
                *_line_column(text, token.start()),
                f"more than {MAX_NODES:,} values (a study file holds a few thousand)",
            )


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _check_storable(data: Any) -> None:
    """Refuse texts (values and keys) holding NUL or lone surrogates, naming each place."""
    problems: list[tuple[str, str]] = []
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while pending and len(problems) < 20:
        path, value = pending.pop()
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(key, str) and _UNSTORABLE.search(key):
                    problems.append((format_loc(path), _unstorable_message(key, "a field name")))
                pending.append(((*path, str(key)), inner))
        elif isinstance(value, list):
            pending.extend(((*path, i), inner) for i, inner in enumerate(value))
        elif isinstance(value, str) and _UNSTORABLE.search(value):
            problems.append((format_loc(path), _unstorable_message(value, "the text")))
    if problems:
        raise StudyError(sorted(problems))


def _unstorable_message(text: str, what: str) -> str:
    found = _UNSTORABLE.search(text)
    assert found is not None
    code = f"U+{ord(found.group()):04X}"
    why = "a NUL character" if found.group() == "\x00" else "a lone surrogate, not a character"
    return f"{what} contains {code} ({why}), which cannot be stored; remove it"


def errors_from_validation(exc: ValidationError, root: type[BaseModel]) -> list[tuple[str, str]]:
    """Turn pydantic's errors into ``(location, message)`` pairs in our style."""
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = format_loc(err["loc"])
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, StudyError):
            out.extend((join_loc(loc, sub), msg) for sub, msg in inner.errors)
        elif err["type"] == "missing":
            out.append((loc, "required field is missing"))
        elif err["type"] == "extra_forbidden":
            out.append(
                (loc, f"unknown field '{err['loc'][-1]}'{_expected_fields(root, err['loc'])}")
            )
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if (
                err["type"] != "value_error"
                and "input" in err
                and not isinstance(err["input"], dict | list)
            ):
                msg = f"{msg} (got {err['input']!r})"
            out.append((loc, msg))
    return out


def _expected_fields(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """`` (expected one of: ...)`` for the model that holds ``loc[-1]``, when it can be found."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if (
            not (isinstance(model, type) and issubclass(model, BaseModel))
            or part not in model.model_fields
        ):
            return ""
        annotation = model.model_fields[part].annotation
        # Unwrap Optional[...] and list[...] to reach the nested model.
        while typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        model = annotation
    if isinstance(model, type) and issubclass(model, BaseModel):
        return f" (expected one of: {', '.join(model.model_fields)})"
    return ""
