"""The analysis package stays independent of the web app and the database."""

from __future__ import annotations

import subprocess
import sys


def test_importing_analysis_pulls_in_no_framelab_flask_or_sqlalchemy():
    code = (
        "import analysis, analysis.run, analysis.plan, sys; "
        "bad = [m for m in sys.modules if m.startswith(('framelab', 'flask', 'sqlalchemy'))]; "
        "print(bad); assert not bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_api_exports_run_load_plan_and_one_function_per_statistic():
    import analysis

    for name in [
        "run",
        "load_plan",
        "difference_in_means",
        "lin",
        "ancova",
        "change_score",
        "ordinal_logit",
        "logit",
        "randomization_inference",
        "mann_whitney",
        "effect_sizes",
        "omnibus",
        "adjust_pvalues",
        "equivalence",
        "ols_hc2",
    ]:
        assert callable(getattr(analysis, name)), name
