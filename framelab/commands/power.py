"""framelab CLI command `power`: simulated power for a study exactly as designed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click


def _pairs(values: tuple[str, ...], option: str) -> dict[str, float]:
    out = {}
    for pair in values:
        name, sep, number = pair.partition("=")
        try:
            out[name] = float(number)
        except ValueError:
            sep = ""
        if not sep:
            raise click.BadParameter(f"{pair!r}: expected NAME=NUMBER", param_hint=option)
    return out


def _load(study: str):
    """A study file (YAML/JSON) or the slug of a study in the database."""
    from framelab.domain.study import StudyError, load_study_file

    if Path(study).is_file():
        try:
            return load_study_file(study)
        except StudyError as exc:
            raise click.ClickException(f"{study}: {exc}") from None
    from framelab.commands.survey import _study_spec

    return _study_spec(study)


@click.command("power")
@click.argument("study")
@click.option("--sims", type=click.IntRange(100, 1_000_000), default=2000, show_default=True,
              help="Simulated studies per sample size (Monte-Carlo error about "
              "sqrt(p(1-p)/sims)).")  # fmt: skip
@click.option("--d", "effect_d", type=click.FloatRange(0.001, 3), default=0.15, show_default=True,
              help="Expected effect of every frame (Cohen's d; h for a yes/no outcome).")  # fmt: skip
@click.option("--effect", "effects", multiple=True, metavar="ARM=D",
              help="Expected effect of one frame (repeatable; overrides --d).")  # fmt: skip
@click.option("--r2", "r2", type=click.FloatRange(0, 0.95), default=None,
              help="Share of outcome variance the pre-measures explain (default 0, or "
              "estimated with --r2-from).")  # fmt: skip
@click.option("--r2-from", "r2_from", type=click.Path(exists=True, dir_okay=False),
              help="A pilot's or earlier study's tidy export (CSV, Parquet, .sav, .dta): R² "
              "of the primary outcome on the plan's covariates in its control group.")  # fmt: skip
@click.option("--attrition", type=click.FloatRange(0, 0.9), default=0.15, show_default=True,
              help="Share of randomized participants expected not to finish.")  # fmt: skip
@click.option("--strata-share", "strata", multiple=True, metavar="STRATUM=SHARE",
              help="Share of the sample in a stratum of a blocked design (default equal).")  # fmt: skip
@click.option("--n", "target", type=click.IntRange(4), default=None,
              help="Completed participants to plan for (default the study's target_n).")  # fmt: skip
def power(
    study: str,
    sims: int,
    effect_d: float,
    effects: tuple[str, ...],
    r2: float | None,
    r2_from: str | None,
    attrition: float,
    strata: tuple[str, ...],
    target: int | None,
) -> None:
    """Power of each frame for STUDY as written (a study file or a slug), by simulation.

    Simulates the study's arms and allocation, its blocks and strata shares, the
    covariates' R², the expected attrition, the primary method and the correction;
    prints each frame's power at the planned sample beside the instant analytic
    figure, and the sample needed for 80% and 90% power.
    """
    from framelab.services.study_power import design_inputs, simulate_design

    spec = _load(study)
    if r2 is None and r2_from:
        r2 = _r2_from(spec, r2_from)
        click.echo(f"R² of the covariates in {r2_from}'s control group: {r2:.3f}")
    try:
        inputs = design_inputs(
            spec,
            effect_d=effect_d,
            effects=_pairs(effects, "--effect"),
            covariate_r2=r2 or 0.0,
            attrition=attrition,
            strata_shares=_pairs(strata, "--strata-share"),
            target_completes=target,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    bar = None
    began = time.perf_counter()

    def progress(done: int, work: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=work, label=f"{work} simulated studies", file=sys.stderr)
            bar.__enter__()
        bar.update(done)

    try:
        result = simulate_design(spec, inputs, n_sims=sims, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    seconds = time.perf_counter() - began
    click.echo(_describe(inputs))
    click.echo(_table(result, inputs))
    click.echo(f"{sims} simulations per sample size; {seconds:.1f} s.")


def _r2_from(spec, path: str) -> float:
    from analysis.data_files import read_data
    from analysis.power_design import covariate_r2
    from framelab.services.export_plan import analysis_plan

    plan = analysis_plan(spec)
    data = read_data(path, plan)
    outcome = plan["outcomes"][0]
    covariates = [*plan["covariates"], *([outcome["baseline"]] if outcome.get("baseline") else [])]
    covariates = list(dict.fromkeys(covariates))
    try:
        return covariate_r2(data, outcome["name"], covariates, arm="arm", control=plan["control"])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _describe(inputs) -> str:
    strata = (
        ", ".join(
            f"{s} {100 * v:.0f}%" for s, v in zip(inputs.strata, inputs.strata_shares, strict=True)
        )
        if inputs.strata
        else "none"
    )
    return (
        f"Design: {len(inputs.arms)} arms ({', '.join(inputs.arms)}), allocation "
        f"{':'.join(f'{w:g}' for w in inputs.allocation.values())}; blocks: {strata}; "
        f"covariate R² {inputs.covariate_r2:.2f}; attrition {100 * inputs.attrition:.0f}%; "
        f"{inputs.method.replace('_', ' ')}, {inputs.correction} correction, alpha "
        f"{inputs.alpha:g}; {inputs.outcome} outcome.\n"
        f"Planned: {inputs.target_completes} completes ({inputs.n_total} randomized)."
    )


def _table(result, inputs) -> str:
    keep = 1 - inputs.attrition
    lines = [
        f"{'frame':<16}{'effect':>8}{'power':>9}{'± MC':>7}{'analytic':>10}"
        f"{'N for 80%':>12}{'N for 90%':>12}",
    ]
    for f in result["frames"]:

        def n(value: float) -> str:
            return "n/a" if value != value else f"{round(value * keep):,}"

        analytic = f["analytic_power"]
        lines.append(
            f"{f['arm']:<16}{f['effect_size']:>8.2f}{100 * f['power']:>8.1f}%"
            f"{100 * f['mc_std_error']:>6.1f}"
            f"{'n/a' if analytic != analytic else f'{100 * analytic:.1f}%':>10}"
            f"{n(f['n_80']):>12}{n(f['n_90']):>12}"
        )
    lines.append(
        "N = completed participants in total (randomize N / "
        f"{keep:.2f}); analytic = two-group formula, no blocks or covariates."
    )
    return "\n".join(lines)


COMMANDS: list = [power]
