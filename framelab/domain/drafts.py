"""A page's draft, pure: which answers of a posted page are kept, and a kept draft read back.

A page that fails validation is not stored (a page's answers are stored all together or
not at all), but its valid answers are kept as a draft so that a reload, or a return
later with the participant code, shows them again (issue 21, "Nothing lost mid-page").
Only answers that pass their item's own check are kept, as the form would send them
again (a choice's value, a slider's number, a text as validated); an invalid or empty
answer is never kept. A draft read back is checked again against the page's items, so
a draft that names another page's items, or holds anything else, shows nothing of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from framelab.domain.errors import ValueProblem
from framelab.domain.study import Item


def draft_values(items: Iterable[Item], form: Mapping[str, object]) -> dict[str, str]:
    """The answers in `form` to `items` that are valid and not empty, as form values."""
    kept: dict[str, str] = {}
    for item in items:
        raw = form.get(item.id)
        if not isinstance(raw, str):
            continue
        try:
            value = item.validate_value(raw)
        except ValueProblem:
            continue
        if value is not None:
            kept[item.id] = str(value)
    return kept


def encode_draft(values: Mapping[str, str]) -> str:
    """The draft as stored: a JSON object of item id to value."""
    return json.dumps(dict(values), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def decode_draft(text: str | None, items: Iterable[Item]) -> dict[str, str]:
    """The answers of a stored draft that are still valid answers to `items` (else empty)."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return draft_values(items, data)
