"""The report's backlash section and the appendix parts of issue 19's analysis depth.

Formatting only: the probabilities, the "1 in N" figures, the backlash size that
matters (``delta``) and the reliability flags are all in the results
(:mod:`analysis.backlash`, :mod:`analysis.reliability`, ``ordinal_thresholds``).

Examples
--------
>>> from analysis.report.context import ReportContext
>>> plan = {"control": "control", "outcomes": [{"name": "y", "label": "support"}]}
>>> rows = [{"outcome": "y", "arm": "loyalty", "p_backlash": 0.12, "one_in": 8}]
>>> [(heading, sentences, table)] = backlash_blocks(
...     ReportContext({"meta": {"plan": plan}, "backlash": rows}))
>>> heading, sentences
('How likely is it that a frame lowered support?', ['About a 1 in 8 chance that the loyalty frame lowers support.'])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from analysis.report.context import Outcome, ReportContext
from analysis.report.result_values import is_number, records
from analysis.report.tables import columns_of, table_html

__all__ = ["backlash_blocks", "depth_parts"]


def _chance(ctx: ReportContext, p: Any, one_in: Any) -> str:
    """'about 1 in 8', 'less than 1 in 100', or a percentage when above one half."""
    t = ctx.t
    if not is_number(p):
        return t("n/a")
    if p < 0.01:
        return t("less than 1 in 100")
    if is_number(one_in):
        return t("about 1 in {n}", n=t.number(one_in, 0))
    return t.percent(p)


def _who(ctx: ReportContext, row: Mapping[str, Any]) -> str:
    if row.get("moderator") is None:
        return ""
    return ctx.t(
        " among participants in the subgroup “{level}” ({moderator})",
        level=ctx.level_label(row["moderator"], row.get("level")),
        moderator=ctx.column_label(row["moderator"]),
    )


def _sentence(ctx: ReportContext, outcome: Outcome, row: Mapping[str, Any]) -> str:
    """'About a 1 in 8 chance that Care lowers support among ...' (raises when a fall is wanted)."""
    t = ctx.t
    p, one_in = row.get("p_backlash"), row.get("one_in")
    values = {"frame": ctx.frame_name(row.get("arm")), "outcome": outcome.label}
    values["who"] = _who(ctx, row)
    if not is_number(p):
        return ""
    up = outcome.wants_decrease
    if p < 0.01:
        text = (
            t("Less than a 1 in 100 chance that {frame} raises {outcome}{who}.", **values)
            if up
            else t("Less than a 1 in 100 chance that {frame} lowers {outcome}{who}.", **values)
        )
    elif is_number(one_in):
        n = t.number(one_in, 0)
        text = (
            t("About a 1 in {n} chance that {frame} raises {outcome}{who}.", n=n, **values)
            if up
            else t("About a 1 in {n} chance that {frame} lowers {outcome}{who}.", n=n, **values)
        )
    else:
        share = t.percent(p)
        text = (
            t(
                "A {share} chance that {frame} raises {outcome}{who}: more likely than not.",
                share=share,
                **values,
            )
            if up
            else t(
                "A {share} chance that {frame} lowers {outcome}{who}: more likely than not.",
                share=share,
                **values,
            )
        )
    if is_number(row.get("delta")) and is_number(row.get("p_backlash_delta")):
        chance = _chance(ctx, row["p_backlash_delta"], row.get("one_in_delta"))
        text += " " + t(
            "By more than {amount}: {chance}.", amount=outcome.amount(row["delta"]), chance=chance
        )
    return text


def backlash_blocks(ctx: ReportContext) -> list[tuple[str, list[str], Markup]]:
    """Per outcome: a heading, one plain sentence per frame and group, and a table.

    Parameters
    ----------
    ctx : ReportContext
        The results (``backlash``) and the plan's labels, in the report's language.

    Returns
    -------
    list of (str, list of str, Markup)
        One block per outcome with backlash rows: heading, sentences, table.

    Notes
    -----
    "Backlash" follows the outcome's desired direction (a rise is backlash when the
    campaign wants a fall). Whole-sample rows come before subgroup rows; the
    skeptical-prior column appears only when the results carry it.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> plan = {"outcomes": [{"name": "y", "label": "support", "desired": "decrease"}]}
    >>> rows = [{"outcome": "y", "arm": "care", "p_backlash": 0.004}]
    >>> backlash_blocks(ReportContext({"meta": {"plan": plan}, "backlash": rows}))[0][1]
    ['Less than a 1 in 100 chance that the care frame raises support.']
    """
    t = ctx.t
    rows = records(ctx.results, "backlash")
    blocks = []
    for outcome in ctx.outcomes:
        mine = [r for r in rows if r.get("outcome") == outcome.name]
        if not mine:
            continue
        mine.sort(key=lambda r: r.get("moderator") is not None)
        heading = (
            t("How likely is it that a frame raised {outcome}?", outcome=outcome.label)
            if outcome.wants_decrease
            else t("How likely is it that a frame lowered {outcome}?", outcome=outcome.label)
        )
        sentences = [text for r in mine if (text := _sentence(ctx, outcome, r))]
        prior = any(is_number(r.get("p_backlash_prior")) for r in mine)
        frame, group = t("Frame"), t("Group")
        backlash, beyond = t("Chance of backlash"), t("Chance of backlash that matters")
        with_prior = t("With the skeptical prior")
        table = []
        for r in mine:
            cell = {
                frame: ctx.arm_label(r.get("arm")),
                group: t("Everyone")
                if r.get("moderator") is None
                else f"{ctx.column_label(r['moderator'])}: "
                f"{ctx.level_label(r['moderator'], r.get('level'))}",
                backlash: t.percent(r["p_backlash"]) if is_number(r.get("p_backlash")) else "",
                beyond: t(
                    "{chance} (more than {amount})",
                    chance=t.percent(r["p_backlash_delta"]),
                    amount=outcome.amount(r["delta"]),
                )
                if is_number(r.get("p_backlash_delta")) and is_number(r.get("delta"))
                else "",
            }
            if prior:
                cell[with_prior] = (
                    t.percent(r["p_backlash_prior"]) if is_number(r.get("p_backlash_prior")) else ""
                )
            table.append(cell)
        caption = t("Chance that each frame moved {outcome} the wrong way", outcome=outcome.label)
        blocks.append((heading, sentences, table_html(table, caption)))
    return blocks


def depth_parts(ctx: ReportContext, labels: Mapping[str, Any]) -> list[tuple]:
    """Appendix parts (English): backlash, scale reliability and ordinal thresholds.

    Parameters
    ----------
    ctx : ReportContext
        The results.
    labels : mapping
        Display labels of column values (``{"arm": {id: label}}``) for the tables.

    Returns
    -------
    list of tuple
        ``(id, heading, intro, body, missing)`` per part; ``body`` is None when the
        results lack the section (``missing`` says so). Ordinal thresholds appear only
        when present.

    Notes
    -----
    A scale with Cronbach's alpha or McDonald's omega below 0.6 is named in the
    reliability intro as noisy.

    Examples
    --------
    >>> from analysis.report.context import ReportContext
    >>> rows = [{"scale": "trust", "alpha": 0.52, "omega": 0.55, "low": True}]
    >>> parts = depth_parts(ReportContext({"reliability": rows}), {})
    >>> [part[0] for part in parts], "Warning: trust has alpha" in parts[1][2]
    (['backlash', 'reliability'], True)
    """
    results = ctx.results
    parts = []
    rows = records(results, "backlash")
    parts.append(
        (
            "backlash",
            "Backlash probabilities",
            "P(effect in the undesired direction) and P(beyond delta) from the normal "
            "approximation to each estimate (flat prior; p_backlash_prior: skeptical normal "
            "prior centred on 0 with SD prior_sd). delta and prior_sd are in raw outcome "
            "units (proportions for yes/no outcomes). Subgroup rows use the subgroup "
            "difference in means; suppressed cells are left out.",
            table_html(
                rows, "Backlash probabilities", columns=columns_of(rows), label_values=labels
            )
            if rows
            else None,
            "Not available in these results (no 'backlash' records).",
        )
    )
    rows = records(results, "reliability")
    low = [r for r in rows if r.get("low")]
    intro = (
        "Cronbach's alpha with Feldt's 95% interval and McDonald's omega total (one-factor "
        "minimum-residual model; psych::omega's omega.tot) for each multi-item scale."
    )
    if low:
        names = ", ".join(str(r.get("scale")) for r in low)
        intro += (
            f" Warning: {names} {'has' if len(low) == 1 else 'have'} alpha or omega below "
            "0.6: the items hardly measure one thing, so the scale score is noisy and "
            "effects on it are hard to interpret."
        )
    parts.append(
        (
            "reliability",
            "Scale reliability",
            intro,
            table_html(rows, "Scale reliability", columns=columns_of(rows)) if rows else None,
            "No multi-item scales in the plan (or their reliability could not be computed; "
            "see the warnings).",
        )
    )
    rows = records(results, "ordinal_thresholds")
    if rows:
        parts.append(
            (
                "ordinal-thresholds",
                "Ordinal model thresholds",
                "Cut points theta_j of the proportional-odds model (logit P(Y <= j) = "
                "theta_j - x'beta) for a control participant with covariates at 0, as "
                "ordinal::clm reports them.",
                table_html(rows, "Ordinal model thresholds", columns=columns_of(rows)),
                "",
            )
        )
    return parts
