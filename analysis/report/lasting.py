"""The report's "Did it last?" section: follow-up waves (issue 21), formatting only.

Every number comes from the results: ``waves`` (each frame's change at wave 1 and at the
later wave among the participants who came back, and the share that remains, from
:func:`analysis.waves.wave_effects`), ``wave_returns`` (return rates and the test of
differential return, :func:`analysis.waves.return_rates`) and the whole sample's wave-1
difference in means from ``effects``. The section exists only when the plan has waves.

Examples
--------
>>> from analysis.report.context import ReportContext
>>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}],
...         "waves": [{"id": "w2", "after_days": 7, "items": ["y"]}]}
>>> returns = [{"wave": "w2", "arm": "control", "return_rate": 0.58},
...            {"wave": "w2", "arm": "fairness", "return_rate": 0.41, "differential": True}]
>>> [wave] = lasting_waves(ReportContext({"meta": {"plan": plan}, "wave_returns": returns}))
>>> wave.returns
['Readers of the fairness frame returned less often than the control group (41% vs 58%): the later estimates for this frame may be biased.']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from analysis.report.context import Outcome, ReportContext
from analysis.report.result_values import is_number, records, sentence_case
from analysis.report.summary_phrases import interval_note
from analysis.report.tables import columns_of, table_html

__all__ = ["WaveBlock", "lasting_waves", "waves_parts"]


@dataclass
class WaveBlock:
    """One follow-up wave as the report shows it: return warnings, then one block per
    outcome (heading, sentences, table)."""

    wave: str
    returns: list[str] = field(default_factory=list)
    blocks: list[tuple[str, list[str], Markup]] = field(default_factory=list)


def _waves(ctx: ReportContext) -> list[Mapping[str, Any]]:
    waves = ctx.plan.get("waves")
    if not isinstance(waves, list):
        return []
    return [w for w in waves if isinstance(w, Mapping) and w.get("id")]


def _return_sentence(ctx: ReportContext, row: Mapping[str, Any], control: Any) -> str:
    t = ctx.t
    values = {
        "frame": ctx.frame_name(row.get("arm")),
        "rate": t.percent(row.get("return_rate")),
        "control": t.percent(control),
    }
    if is_number(row.get("difference")):
        less = row["difference"] < 0
    else:
        less = is_number(row.get("return_rate")) and is_number(control)
        less = less and row["return_rate"] < control
    return (
        t(
            "Readers of {frame} returned less often than the control group ({rate} vs "
            "{control}): the later estimates for this frame may be biased.",
            **values,
        )
        if less
        else t(
            "Readers of {frame} returned more often than the control group ({rate} vs "
            "{control}): the later estimates for this frame may be biased.",
            **values,
        )
    )


def _cell(ctx: ReportContext, outcome: Outcome, value: Any, low: Any, high: Any) -> str:
    if not is_number(value):
        return ""
    if not (is_number(low) and is_number(high)):
        return outcome.show(value)
    return ctx.t(
        "{value} ({low} to {high})",
        value=outcome.show(value),
        low=outcome.show(low),
        high=outcome.show(high),
    )


def _sentences(ctx: ReportContext, outcome: Outcome, row: Mapping[str, Any], days: int) -> list:
    t = ctx.t
    frame = ctx.frame_name(row.get("arm"))
    if not is_number(row.get("estimate")):
        return []
    raised = row["estimate"] > 0
    extra = (t("lower is what the campaign wants"),) if outcome.wants_decrease else ()
    later = t.n(
        "At least {n} day later, among the participants who came back, {frame} had raised "
        "{outcome} by {amount}{interval}."
        if raised
        else "At least {n} day later, among the participants who came back, {frame} had lowered "
        "{outcome} by {amount}{interval}.",
        "At least {n} days later, among the participants who came back, {frame} had raised "
        "{outcome} by {amount}{interval}."
        if raised
        else "At least {n} days later, among the participants who came back, {frame} had lowered "
        "{outcome} by {amount}{interval}.",
        days,
        frame=frame,
        outcome=outcome.label,
        amount=outcome.amount(abs(row["estimate"])),
        interval=interval_note(ctx, outcome, row, *extra),
    )
    first = {k: row.get(f"first_{k}") for k in ("conf_low", "conf_high")}
    if row.get("share_stable") and is_number(row.get("share")):
        bracket = {"conf_low": row.get("share_conf_low"), "conf_high": row.get("share_conf_high")}
        share = t(
            "That is {share} of the change right after reading, among the same people{interval}."
            if row["share"] >= 0
            else "The change had turned the other way: {share} of the change right after "
            "reading, among the same people{interval}.",
            share=t.percent(row["share"]),
            interval=_share_interval(ctx, bracket),
        )
    else:
        share = t(
            "Among the same people the change right after reading is too uncertain to say "
            "what share of it lasted{interval}.",
            interval=interval_note(ctx, outcome, first),
        )
    return [later, share]


def _share_interval(ctx: ReportContext, row: Mapping[str, Any]) -> str:
    t = ctx.t
    if not (is_number(row.get("conf_low")) and is_number(row.get("conf_high"))):
        return ""
    low, high = t.percent(row["conf_low"]), t.percent(row["conf_high"])
    ci = t("{level} CI {low} to {high}", level=ctx.confidence, low=low, high=high)
    return t(" ({notes})", notes=ci)


def lasting_waves(ctx: ReportContext) -> list[WaveBlock]:
    """Per follow-up wave: differential-return warnings and one block per outcome.

    Parameters
    ----------
    ctx : ReportContext
        The results (``waves``, ``wave_returns``, ``effects``) and the plan's labels and
        waves, in the report's language.

    Returns
    -------
    list of WaveBlock
        Empty when the plan has no waves. Each block: ``wave`` (its id), ``returns``
        (a sentence per frame whose readers returned more or less often than the
        control's, by the results' ``differential`` flag) and ``blocks`` (heading,
        sentences, table per outcome asked again).

    Notes
    -----
    The share is printed only when the results mark it stable (the wave-1 change among
    the returners has an interval that excludes no change); otherwise the sentence says
    it is too uncertain. Its interval is Fieller's, from the results. The table's "wave
    1, everyone" column is the whole sample's difference in means, the estimator of the
    other columns; changes are in the outcome's unit (percentage points for yes/no).

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}],
    ...         "waves": [{"id": "w2", "after_days": 7, "items": ["y"]}]}
    >>> row = {"wave": "w2", "outcome": "y", "arm": "care", "estimate": 0.3,
    ...        "conf_low": 0.1, "conf_high": 0.5, "share": 0.5, "share_stable": True,
    ...        "share_conf_low": 0.2, "share_conf_high": 0.8}
    >>> [wave] = lasting_waves(ReportContext({"meta": {"plan": plan}, "waves": [row]}))
    >>> heading, sentences, table = wave.blocks[0]
    >>> heading, sentences
    ('Support, at least 7 days later', ['At least 7 days later, among the participants who came back, the care frame had raised support by 0.30 points (95% CI 0.10 to 0.50).', 'That is 50% of the change right after reading, among the same people (95% CI 20% to 80%).'])
    """
    t = ctx.t
    effects = records(ctx.results, "waves")
    returns = records(ctx.results, "wave_returns")
    out = []
    for wave in _waves(ctx):
        wid, days = str(wave["id"]), wave.get("after_days")
        days = int(days) if is_number(days) else 0
        mine = [r for r in returns if r.get("wave") == wid]
        rates = {r.get("arm"): r.get("return_rate") for r in mine}
        control = rates.get(ctx.control)
        block = WaveBlock(wid)
        block.returns = [
            _return_sentence(ctx, r, control)
            for r in mine
            if r.get("differential") and r.get("arm") != ctx.control
        ]
        for outcome in ctx.outcomes:
            rows = [r for r in effects if r.get("wave") == wid and r.get("outcome") == outcome.name]
            if not rows:
                continue
            whole = {e.get("arm"): e for e in ctx.effects_for(outcome.name, "difference_in_means")}
            sentences = [s for r in rows for s in _sentences(ctx, outcome, r, days)]
            table = [
                _table_row(ctx, outcome, r, whole.get(r.get("arm")), rates, days) for r in rows
            ]
            caption = t(
                "How much of each frame's change in {outcome} lasted", outcome=outcome.label
            )
            if outcome.wants_decrease:
                caption += t("; lower is what the campaign wants")
            heading = sentence_case(
                t.n(
                    "{outcome}, at least {n} day later",
                    "{outcome}, at least {n} days later",
                    days,
                    outcome=outcome.label,
                )
            )
            block.blocks.append(
                (heading, sentences, table_html(table, caption, row_header=t("Frame")))
            )
        out.append(block)
    return out


def _table_row(
    ctx: ReportContext,
    outcome: Outcome,
    row: Mapping[str, Any],
    whole: Mapping[str, Any] | None,
    rates: Mapping[Any, Any],
    days: int,
) -> dict[str, str]:
    t = ctx.t
    whole = whole or {}
    share = t("too uncertain")
    if row.get("share_stable") and is_number(row.get("share")):
        low, high = row.get("share_conf_low"), row.get("share_conf_high")
        share = t.percent(row["share"])
        if is_number(low) and is_number(high):
            share = t(
                "{value} ({low} to {high})", value=share, low=t.percent(low), high=t.percent(high)
            )
    control = rates.get(ctx.control)
    back = rates.get(row.get("arm"))
    return {
        t("Frame"): ctx.arm_label(row.get("arm")),
        t("Wave 1, everyone"): _cell(
            ctx, outcome, whole.get("estimate"), whole.get("conf_low"), whole.get("conf_high")
        ),
        t("Wave 1, those who came back"): _cell(
            ctx,
            outcome,
            row.get("first_estimate"),
            row.get("first_conf_low"),
            row.get("first_conf_high"),
        ),
        t.n("At least {n} day later", "At least {n} days later", days): _cell(
            ctx, outcome, row.get("estimate"), row.get("conf_low"), row.get("conf_high")
        ),
        t("Share remaining ({level} interval)", level=ctx.confidence): share,
        t("Came back"): t(
            "{rate} (control {control})", rate=t.percent(back), control=t.percent(control)
        )
        if is_number(back) and is_number(control)
        else "",
    }


def waves_parts(ctx: ReportContext, labels: Mapping[str, Any]) -> list[tuple]:
    """Appendix parts (English) of the follow-up waves, when the plan has waves.

    Parameters
    ----------
    ctx : ReportContext
        The results (``waves``, ``wave_returns``).
    labels : mapping
        Display labels of column values (``{"arm": {id: label}}``) for the tables.

    Returns
    -------
    list of tuple
        ``(id, heading, intro, body, missing)`` for the lasting effects and the return
        rates; empty when the plan has no waves.

    Notes
    -----
    The intro states each method as :mod:`analysis.waves` computes it.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"waves": [{"id": "w2", "after_days": 7, "items": ["y"]}]}
    >>> [p[0] for p in waves_parts(ReportContext({"meta": {"plan": plan}}), {})]
    ['waves', 'wave-returns']
    >>> waves_parts(ReportContext({}), {})
    []
    """
    if not _waves(ctx):
        return []
    parts = []
    for part_id, key, heading, caption, intro in _APPENDIX:
        rows = records(ctx.results, key)
        body = table_html(rows, caption, columns=columns_of(rows), label_values=labels)
        missing = f"Not available in these results (no '{key}' records; see the warnings)."
        parts.append((part_id, heading, intro, body if rows else None, missing))
    return parts


# (part id, results key, heading, table caption, intro) of the appendix parts, in English.
_APPENDIX = (
    (
        "waves",
        "waves",
        "Follow-up waves: lasting effects",
        "Lasting effects",
        "Per wave, outcome and frame, on the participants of the frame and the control "
        "who returned and answered both times: the wave-1 (first_*) and later "
        "differences in means (HC2 standard errors, Welch-Satterthwaite df, unblocked, "
        "as estimatr::difference_in_means); their covariance from the stacked regression "
        "y ~ 0 + wave + wave:frame with CR2 errors clustered by participant; the share "
        "remaining (later / first) with Fieller's interval (share_conf_*; empty when "
        "unbounded) and the delta method's (share_std_error, share_delta_*). "
        "share_stable is false when the wave-1 interval includes 0; the share is then "
        "not interpreted.",
    ),
    (
        "wave-returns",
        "wave_returns",
        "Follow-up waves: return rates",
        "Return rates",
        "Per wave and arm, among participants who completed wave 1: eligible, returned "
        "and the return rate; for each frame, the difference from the control's rate in "
        "the linear probability model returned ~ frame on the two arms, with HC2 "
        "standard errors and n - 2 df (estimatr::lm_robust). differential: p < alpha, "
        "not corrected for several frames.",
    ),
)
