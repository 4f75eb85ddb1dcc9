"""Render `analysis.run` results as a report: HTML for people, JSON and CSV for tools.

`write_report(results, out_dir)` writes, into `out_dir`:

- `index.html`: one self-contained file (inline CSS, inline SVG plots, no
  script, no request to any host) with the campaigner summary first and the
  analyst appendix after it;
- `results.json`: the results object exactly as rendered;
- `effects.csv`: the effects table (every outcome x arm x method);
- `data.csv`: the analysed data, when `data` is given;
- `report.pdf`: only when WeasyPrint is importable.

Before the study's planned sample (``meta.interim``) the files are `interim-index.html`,
`interim-results.json` and `interim-data.csv`, and the page is the interim report
(:mod:`analysis.report.interim`: the anytime-valid section only).

The report computes no statistics: every number shown is a value from the
results object, rounded for display.

Examples
--------
>>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}]}
>>> effect = {"outcome": "y", "arm": "care", "method": "difference_in_means",
...           "estimate": 0.42, "conf_low": 0.18, "conf_high": 0.66, "p_value": 0.0006}
>>> results = {"meta": {"plan": plan}, "effects": [effect]}
>>> campaigner_summary(results).headline
['The care frame raised support by 0.42 points (95% CI 0.18 to 0.66). This is unlikely to be chance (p < 0.001).']
>>> render_html(results).startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.report.render import render_html
from analysis.report.result_values import records
from analysis.report.summary import Summary, campaigner_summary

__all__ = ["Summary", "campaigner_summary", "render_html", "write_report"]


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null so the JSON is strict (as browsers and R expect)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _json_safe(value.item())
    return value


def write_effects_csv(results: Mapping[str, Any], path: Path) -> Path:
    """Write the effects records as CSV (one row per outcome x arm x method)."""
    rows = records(results, "effects")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return path


def write_report(
    results: Mapping[str, Any],
    out_dir: str | Path,
    *,
    data: Any = None,
    title: str | None = None,
    lang: str | None = None,
) -> Path:
    """Write the report files into `out_dir` and return the path of `index.html`.

    Parameters
    ----------
    results : mapping
        The object returned by `analysis.run` (or read back from its JSON).
    out_dir : path
        Folder to write into; created if needed. Existing report files are replaced.
    data : pandas.DataFrame, optional
        The analysed tidy data; written beside the report as `data.csv`.
    title : str, optional
        Report title; defaults to the plan's `title` or a generic one.
    lang : str, optional
        Language of the campaigner-facing parts (``analysis.report.i18n.LANGUAGES``);
        defaults to the plan's ``language``, else English.

    Returns
    -------
    pathlib.Path
        The written page: `index.html`, or `interim-index.html` before the planned sample.

    Notes
    -----
    NaN and infinities become null in `results.json`, so the JSON is strict (as browsers
    and R expect), and the page is rendered from that same cleaned object. An interim
    results object has no effects, so no `effects.csv` is written for it.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> results = {"meta": {"plan": {"outcomes": ["y"]}},
    ...            "effects": [{"outcome": "y", "arm": "care", "estimate": float("nan")}]}
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     index = write_report(results, folder)
    ...     print(index.name, sorted(p.name for p in Path(folder).iterdir() if p.suffix != ".pdf"))
    ...     print(Path(folder, "effects.csv").read_text().splitlines())
    index.html ['effects.csv', 'index.html', 'results.json']
    ['outcome,arm,estimate', 'y,care,']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    safe = _json_safe(results)
    # Before the planned sample every file says "interim" in its name (DECISIONS rule 3);
    # an interim results object has no effects, so no effects.csv.
    interim = bool((safe.get("meta") or {}).get("interim"))
    prefix = "interim-" if interim else ""
    (out / f"{prefix}results.json").write_text(
        json.dumps(safe, indent=2, allow_nan=False, default=str), encoding="utf-8"
    )
    if not interim:
        write_effects_csv(safe, out / "effects.csv")
    if data is not None:
        data.to_csv(out / f"{prefix}data.csv", index=False)
    html = render_html(safe, title=title, lang=lang)
    index = out / f"{prefix}index.html"
    index.write_text(html, encoding="utf-8")
    _write_pdf(html, out / f"{prefix}report.pdf")
    return index


def _write_pdf(html: str, path: Path) -> Path | None:
    try:
        import weasyprint  # optional; not a dependency
    except ImportError:
        return None
    weasyprint.HTML(string=html).write_pdf(str(path))
    return path
