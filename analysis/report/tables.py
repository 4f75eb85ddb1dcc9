"""Accessible HTML tables from lists of result records (formatting only)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from analysis.report.values import MINUS, is_number

# Readable headers for the result fields; unknown fields fall back to their name.
HEADERS = {
    "outcome": "Outcome",
    "arm": "Arm",
    "method": "Method",
    "estimate": "Estimate",
    "std_error": "Std. error",
    "statistic": "Statistic",
    "df": "df",
    "p_value": "p",
    "p_adjusted": "p (adjusted)",
    "conf_low": "CI low",
    "conf_high": "CI high",
    "n_control": "n control",
    "n_treatment": "n treatment",
    "family": "Family",
    "outcome_type": "Type",
    "alpha": "α",
    "cohens_d": "Cohen's d",
    "hedges_g": "Hedges' g",
    "d_conf_low": "CI low (d)",
    "d_conf_high": "CI high (d)",
    "ci_method": "CI method",
    "sd": "SD",
    "n": "n",
    "std_diff": "Std. difference",
    "moderator": "Moderator",
    "level": "Level",
    "suppressed": "Suppressed",
    "term": "Term",
    "stage": "Stage",
    "rate": "Rate",
}
P_FIELDS = {"p_value", "p_adjusted", "p_lower", "p_upper", "p"}
COUNT_FIELDS = {
    "n",
    "n_control",
    "n_treatment",
    "n_arm",
    "count",
    "started",
    "assigned",
    "completed",
}
DROP = {"alpha"}  # constant within a results object; shown once in the plan


def fmt_cell(column: str, value: Any) -> str:
    """Format one table value: p-values to 4 decimals, counts as integers, others to 3."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and not isinstance(value, bool):
        # thousands separators for counts only: a seed or a year must print as is
        counted = column in COUNT_FIELDS or column.startswith("n_")
        return f"{value:,}" if counted else str(value)
    if isinstance(value, float):
        if not is_number(value):
            return "n/a"
        if column in P_FIELDS:
            return "< 0.0001" if value < 0.0001 else f"{value:.4f}"
        if column in COUNT_FIELDS and value.is_integer():
            return f"{int(value):,}"
        text = f"{value:.3f}"
        if text.startswith("-"):
            return "0.000" if float(text) == 0 else MINUS + text[1:]
        return text
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def columns_of(rows: Sequence[Mapping[str, Any]], preferred: Sequence[str] = ()) -> list[str]:
    """Preferred columns first (when present), then any others in first-seen order."""
    seen = list(dict.fromkeys(k for r in rows for k in r if k not in DROP))
    return [c for c in preferred if c in seen] + [c for c in seen if c not in preferred]


def table_html(
    rows: Sequence[Mapping[str, Any]],
    caption: str,
    *,
    columns: Sequence[str] | None = None,
    row_header: str | None = None,
    label_values: Mapping[str, Mapping[Any, str]] | None = None,
    wrap: bool = False,
) -> Markup:
    """A captioned table inside a focusable, horizontally scrolling region.

    `row_header` names the column whose cells are row headers (`th scope=row`);
    `label_values` maps a column to display labels for its values (arm ids ->
    arm labels); `wrap` lets long text cells (formulas, notes) wrap.
    """
    cols = list(columns) if columns is not None else columns_of(rows)
    labels = label_values or {}
    head = "".join(
        f'<th scope="col" class="{_align(rows, c)}">{escape(HEADERS.get(c, c.replace("_", " ")))}</th>'
        for c in cols
    )
    body = []
    for row in rows:
        cells = []
        for c in cols:
            value = row.get(c)
            shown = labels.get(c, {}).get(value, None) if c in labels else None
            text = escape(shown if shown is not None else fmt_cell(c, value))
            if c == row_header:
                cells.append(f'<th scope="row">{text}</th>')
            else:
                cells.append(f'<td class="{_align(rows, c)}">{text}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    table_class = ' class="wrap"' if wrap else ""
    return Markup(
        f'<div class="table-scroll" role="region" aria-label="Table: {escape(caption, quote=True)}" '
        f'tabindex="0"><table{table_class}><caption>{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _align(rows: Sequence[Mapping[str, Any]], column: str) -> str:
    numeric = any(is_number(r.get(column)) for r in rows)
    return "num" if numeric else "txt"
