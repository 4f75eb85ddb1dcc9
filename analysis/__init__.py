"""framelab's analysis package: estimates, tests and diagnostics for framing experiments.

Input is a tidy pandas DataFrame (one row per participant) plus an analysis plan
(see ``docs/analysis.md``); nothing here imports the framelab web app.
"""

from analysis.effect_size import effect_sizes, equivalence, mann_whitney
from analysis.estimators import difference_in_means
from analysis.glm import logit
from analysis.hc import OLSFit, ols_hc2, wald_test
from analysis.inference import adjust_pvalues, randomization_inference
from analysis.ordinal import ordinal_logit
from analysis.plan import Plan, load_plan
from analysis.regression import ancova, change_score, lin, omnibus
from analysis.run import run

__version__ = "0.1.0"

__all__ = [
    "OLSFit",
    "Plan",
    "__version__",
    "adjust_pvalues",
    "ancova",
    "change_score",
    "difference_in_means",
    "effect_sizes",
    "equivalence",
    "lin",
    "load_plan",
    "logit",
    "mann_whitney",
    "ols_hc2",
    "omnibus",
    "ordinal_logit",
    "randomization_inference",
    "run",
    "wald_test",
]
