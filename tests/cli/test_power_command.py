"""`framelab power STUDY`: simulated power for the study as written (issue 19)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from framelab.cli import main
from framelab.domain.study import load_study_file
from framelab.services.study_power import design_inputs
from tests.factories import EXAMPLE, ROOT


def test_power_prints_each_frame_of_the_blocked_demo_with_the_analytic_figure_beside():
    result = CliRunner().invoke(
        main, ["power", str(EXAMPLE), "--sims", "200", "--d", "0.2", "--effect", "care=0.3"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "blocks: left 33%, centre 33%, right 33%" in out
    assert "holm correction" in out and "Planned: 2000 completes (2353 randomized)" in out
    rows = {
        m[0]: m
        for m in re.findall(
            r"^(\w+)\s+([\d.]+)\s+([\d.]+)%\s+[\d.]+\s+([\d.]+)%\s+([\d,]+)\s+([\d,]+)$", out, re.M
        )
    }
    assert set(rows) == {"care", "fairness", "loyalty", "liberty"}
    care, fairness = rows["care"], rows["fairness"]
    assert float(care[2]) > float(fairness[2])  # the larger effect has more power
    n80 = {arm: int(r[4].replace(",", "")) for arm, r in rows.items()}
    n90 = {arm: int(r[5].replace(",", "")) for arm, r in rows.items()}
    assert n80["care"] < n80["fairness"] and all(n90[a] > n80[a] for a in rows)


def test_strata_shares_and_effects_name_their_bad_part():
    bad = CliRunner().invoke(main, ["power", str(EXAMPLE), "--strata-share", "middle=0.5"])
    assert bad.exit_code != 0 and "'middle' is not a stratum" in bad.output
    bad = CliRunner().invoke(main, ["power", str(EXAMPLE), "--effect", "kindness=0.2"])
    assert bad.exit_code != 0 and "'kindness' is not a frame arm" in bad.output


def test_the_factorial_design_is_simulated_with_its_five_arms_and_no_blocks():
    spec = load_study_file(ROOT / "examples" / "refugee-welcome-factorial.yaml")
    inputs = design_inputs(spec, strata_shares=None, attrition=0.2)
    assert inputs.arms[0] == "control" and len(inputs.arms) == 5
    assert inputs.strata == [] and inputs.n_total == 1250 and inputs.correction == "bh"
    with pytest.raises(ValueError, match="not blocked"):
        design_inputs(spec, strata_shares={"left": 1.0})
