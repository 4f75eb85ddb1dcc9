"""Reading study text: YAML 1.2-style booleans, JSON, and pydantic errors in our style.

Public API::

    parse_study_text(text: str) -> Any        # raises StudyError on bad YAML/JSON
    errors_from_validation(exc, root) -> list[tuple[str, str]]
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from framelab.domain.errors import StudyError, format_loc, join_loc

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


def parse_study_text(text: str) -> Any:
    """Parse YAML or JSON (JSON when the text starts with ``{``); raises StudyError."""
    try:
        if text.lstrip().startswith("{"):
            return json.loads(text)
        return yaml.load(text, Loader=_Yaml12Loader)  # SafeLoader subclass: no objects
    except json.JSONDecodeError as exc:
        raise StudyError(
            [("", f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise StudyError([("", f"not valid YAML: {where}{problem}")]) from None


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
