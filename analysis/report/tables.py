"""Accessible HTML tables from lists of result records (formatting only).

Examples
--------
>>> rows = [{"arm": "care", "estimate": 0.42, "p_value": 0.00004}]
>>> html = table_html(rows, "Effects", row_header="arm")
>>> html[html.index("<tbody>"):]
Markup('<tbody><tr><th scope="row">care</th><td class="num">0.420</td><td class="num">&lt; 0.0001</td></tr></tbody></table></div>')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from analysis.report.result_values import MINUS, is_number

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
    """Format one table value: p-values to 4 decimals, counts as integers, others to 3.

    Parameters
    ----------
    column : str
        The field the value belongs to (``p_value``, ``n_control``, ``estimate``...).
    value : object
        The value as the results hold it.

    Returns
    -------
    str
        The cell's text: ``"n/a"`` for a missing or non-finite value, ``"yes"``/``"no"``
        for a flag, JSON for a nested value.

    Notes
    -----
    Thousands separators go to counts only (``COUNT_FIELDS`` and ``n_*``), so a seed or a
    year prints as is; a negative number takes a typographic minus, and a value that
    rounds to zero loses its sign.

    Examples
    --------
    >>> fmt_cell("p_value", 0.00004), fmt_cell("n", 1234), fmt_cell("ri_seed", 20261125)
    ('< 0.0001', '1,234', '20261125')
    >>> fmt_cell("estimate", -0.4213), fmt_cell("estimate", None)
    ('−0.421', 'n/a')
    """
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
    """Preferred columns first (when present), then any others in first-seen order.

    Parameters
    ----------
    rows : sequence of mapping
        The records of one table.
    preferred : sequence of str, optional
        Columns to put first, in this order, when any row has them.

    Returns
    -------
    list of str
        Every column of the rows once, without the ones in ``DROP`` (``alpha``).

    Notes
    -----
    Columns are taken from every row, so a field only some records carry still gets
    its column.

    Examples
    --------
    >>> columns_of([{"arm": "care", "alpha": 0.05, "estimate": 0.4}, {"p_value": 0.1}], ["estimate"])
    ['estimate', 'arm', 'p_value']
    """
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

    Parameters
    ----------
    rows : sequence of mapping
        One record per table row.
    caption : str
        The table's caption, also its region's accessible name.
    columns : sequence of str, optional
        The columns in order; default :func:`columns_of` the rows.
    row_header : str, optional
        The column whose cells are row headers (``th scope=row``).
    label_values : mapping, optional
        Maps a column to display labels for its values (arm ids -> arm labels).
    wrap : bool, default False
        Let long text cells (formulas, notes) wrap.

    Returns
    -------
    markupsafe.Markup
        A ``div.table-scroll`` holding the table; every text is escaped.

    Notes
    -----
    A column with any number in it is aligned as numbers (``class="num"``); cells are
    formatted by :func:`fmt_cell`. The region has ``tabindex="0"`` so a keyboard user can
    scroll a wide table.

    Examples
    --------
    >>> html = table_html([{"arm": "care", "n": 98}], "Arms", label_values={"arm": {"care": "Care"}})
    >>> html[html.index("<tbody>"):]
    Markup('<tbody><tr><td class="txt">Care</td><td class="num">98</td></tr></tbody></table></div>')
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
