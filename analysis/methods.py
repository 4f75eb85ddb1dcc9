"""The ``methods`` section of the results: every method's formula, reference and notes.

Examples
--------
>>> from analysis.plan import load_plan
>>> rows = describe(load_plan({"arm": "arm", "control": "c", "outcomes": ["y"]}))
>>> [r["method"] for r in rows][:3], rows[-1]["method"]
(['difference_in_means', 'lin', 'ancova'], 'multiple_comparisons')
"""

from __future__ import annotations

from analysis import waves
from analysis.plan import Plan

COMPLETE_CASES = (
    "Each analysis uses the participants with non-missing values on every column it "
    "needs (complete cases per analysis); arms with fewer than 2 such participants are "
    "left out of that outcome's estimates with a warning."
)

_METHODS = {
    "difference_in_means": (
        "mean(Y | arm) - mean(Y | control); SE = sqrt(s_t^2/n_t + s_c^2/n_c) (= HC2), "
        "Welch-Satterthwaite df. With blocks: sum_j (n_j/N) d_j, "
        "SE^2 = sum_j (n_j/N)^2 (s_tj^2/n_tj + s_cj^2/n_cj), df = N - 2J; matched-pair "
        "variance sum_j (d_j - d)^2 / (J(J-1)), df = J - 1, when a block has two units.",
        "Gerber & Green (2012) Field Experiments, ch. 3-4; estimatr::difference_in_means "
        "(Blair et al., estimatr 1.0).",
    ),
    "lin": (
        "OLS of Y on arm dummies D, covariates centred at their sample means X_c and "
        "all D x X_c interactions; effect = coefficient of D; HC2 SE, df as small_sample.",
        "Lin (2013) Annals of Applied Statistics 7(1):295-318; estimatr::lm_lin.",
    ),
    "ancova": (
        "OLS of Y on arm dummies and the baseline (pre-treatment) measure; HC2 SE, df as "
        "small_sample.",
        "MacKinnon & White (1985) for HC2; estimatr::lm_robust(se_type = 'HC2').",
    ),
    "change_score": (
        "OLS of (Y - baseline) on arm dummies; HC2 SE, df as small_sample.",
        "MacKinnon & White (1985); estimatr::lm_robust(se_type = 'HC2').",
    ),
    "logit": (
        "Logistic regression of the 0/1 outcome on arm dummies and the plan's covariates; "
        "estimate = log odds ratio; "
        "model-based SE (inverse Fisher information), Wald z, normal p and interval.",
        "R glm(family = binomial) summary and confint.default.",
    ),
    "ordinal_logit": (
        "Proportional-odds model logit P(Y <= j) = theta_j - x'beta, x = arm dummies and the "
        "plan's covariates; estimate = log odds ratio of a higher category; SE from the "
        "observed information, Wald z, p, interval; thresholds theta_j in ordinal_thresholds.",
        "McCullagh (1980) JRSS B 42:109-142; ordinal::clm (Christensen).",
    ),
    "randomization_inference": (
        "Sharp null of no effect: the difference in means (block-weighted with blocks) "
        "recomputed under re-randomizations that permute labels within blocks; "
        "p = (1 + #{|T*| >= |T|}) / (1 + draws).",
        "Fisher (1935); Gerber & Green (2012) ch. 3; Phipson & Smyth (2010).",
    ),
    "mann_whitney": (
        "Wilcoxon-Mann-Whitney rank-sum test, normal approximation with tie and continuity "
        "corrections; estimate = P(Y_t > Y_c) + P(Y_t = Y_c)/2 = U / (n_t n_c).",
        "Mann & Whitney (1947); R wilcox.test(exact = FALSE).",
    ),
    "effect_sizes": (
        "Cohen's d = difference / pooled SD; Hedges' g = J d with "
        "J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), m = n_t + n_c - 2; CIs invert the "
        "noncentral t of t = d / sqrt(1/n_t + 1/n_c) on m df: d's bounds are "
        "ncp sqrt(1/n_t + 1/n_c), g's J times those (ci_method noncentral_t); if it cannot "
        "be inverted, d +/- z se_d with se_d^2 = 1/n_t + 1/n_c + d^2/(2(n_t+n_c)) "
        "(ci_method normal).",
        "Hedges (1981); Steiger & Fouladi (1997); R effectsize::hedges_g (0.8); "
        "Hedges & Olkin (1985) Statistical Methods for Meta-Analysis.",
    ),
    "omnibus": (
        "HC2 Wald test that all arm coefficients in Y ~ arm are zero: W = b'V^-1 b ~ "
        "chi-square(q); F = W/q on (q, n - p) df.",
        "MacKinnon & White (1985); lmtest::waldtest with sandwich::vcovHC(type = 'HC2').",
    ),
    "equivalence": (
        "Two one-sided Welch t tests (TOST) of |effect| < bound; equivalent when both "
        "reject at alpha, i.e. the 1 - 2 alpha interval lies inside +/- bound.",
        "Schuirmann (1987); Lakens (2017) Social Psychological and Personality Science.",
    ),
    "backlash": (
        "Normal approximation b ~ N(tau, s^2): P(backlash) = Phi(-m / v^0.5) and "
        "P(beyond delta) = Phi((-delta - m) / v^0.5), m = b (or -b when a decrease is "
        "wanted), v = s^2 (flat prior); with a skeptical prior N(0, sigma0^2): "
        "m = b sigma0^2 / (sigma0^2 + s^2), v = s^2 sigma0^2 / (sigma0^2 + s^2). "
        "delta defaults to the equivalence bound.",
        "Spiegelhalter, Freedman & Parmar (1994) JRSS A 157:357-416.",
    ),
    "reliability": (
        "Cronbach's alpha = k/(k-1) (1 - sum var_i / var(total)), Feldt interval "
        "1 - (1 - alpha) F on (n-1, (n-1)(k-1)) df; omega total = 1 - sum psi_i / 1'R1 "
        "from a one-factor minimum-residual fit of the item correlations R; flagged "
        "below 0.6.",
        "Cronbach (1951); Feldt (1965); McDonald (1999) Test Theory; psych::alpha, "
        "psych::omega (Revelle).",
    ),
}

_SMALL_SAMPLE = {
    "bell_mccaffrey": (
        "HC2 t tests and intervals of regression coefficients (Lin, ANCOVA, change score, "
        "interactions) use Bell-McCaffrey degrees of freedom: (sum_i a_i^2)^2 / "
        "sum_il w_i^2 w_l^2 (I - H)_il^2 with a = X(X'X)^-1 e_j and w_i = a_i / "
        "sqrt(1 - h_ii); estimatr's residual-df figures are in the *_residual fields.",
        "Bell & McCaffrey (2002) Survey Methodology 28:169-181; Imbens & Kolesar (2016) "
        "REStat 98:701-712; clubSandwich::coef_test(vcov = 'CR2', test = 'Satterthwaite').",
    ),
    "residual": (
        "HC2 t tests and intervals of regression coefficients use the residual df n - p "
        "(estimatr's lm_robust default); can over-reject with small, unbalanced arms.",
        "estimatr::lm_robust (Blair et al.).",
    ),
}

_CORRECTIONS = {
    "holm": "Holm (1979) step-down adjustment (family-wise error rate).",
    "bh": "Benjamini & Hochberg (1995) step-up adjustment (false discovery rate).",
    "bonferroni": "Bonferroni adjustment (p x number of tests).",
    "none": "No adjustment (p_adjusted = p_value).",
}


def describe(plan: Plan) -> list[dict]:
    """One record per method: ``method, formula, reference, notes``.

    Parameters
    ----------
    plan : Plan
        The analysis plan (its primary outcomes, exclusions, small-sample rule and
        correction shape the text).

    Returns
    -------
    list of dict
        One per method, then ``small_sample`` and ``multiple_comparisons``: ``method``
        (name as in the effects' ``method``), ``formula`` (plain-text formula),
        ``reference`` (papers and the R function it matches) and ``notes`` (the
        exclusions and the complete-case rule).

    Notes
    -----
    The text is fixed per method; only the small-sample rule (Bell-McCaffrey or
    residual df), the correction and the confirmatory family follow the plan.

    References
    ----------
    Gerber, A. S. & Green, D. P. (2012). Field Experiments; Lin, W. (2013). Annals of
    Applied Statistics 7(1); Bell, R. M. & McCaffrey, D. F. (2002). Survey Methodology 28.

    Examples
    --------
    >>> from analysis.plan import load_plan
    >>> plan = load_plan({"arm": "arm", "control": "c", "outcomes": ["y"], "correction": "bh"})
    >>> last = describe(plan)[-1]
    >>> last["method"], last["reference"]
    ('multiple_comparisons', 'Benjamini & Hochberg (1995) step-up adjustment (false discovery rate).')
    """
    primary = ", ".join(o.name for o in plan.primary_outcomes)
    exclusions = "; ".join(f"{k} in {list(v)}" for k, v in plan.exclude.items()) or "none"
    if plan.status:
        exclusions += f"; {plan.status} == 'withdrawn' (withdrew consent)"
    family = (
        f"Confirmatory family: primary outcome(s) [{primary}] x every frame arm vs "
        f"{plan.control!r}, estimated by {plan.primary_method}; p_adjusted uses "
        f"{_CORRECTIONS[plan.correction]} Every other estimate is exploratory and adjusted "
        "within its own family: the same method on the primary outcome(s) (robustness), or "
        "the same method on the secondary outcomes."
    )
    notes = f"Exclusions: {exclusions}. {COMPLETE_CASES}"
    out = [
        {"method": name, "formula": formula, "reference": ref, "notes": notes}
        for name, (formula, ref) in _METHODS.items()
    ]
    if plan.waves:  # follow-up waves (issue 21)
        formula, ref = waves.METHOD
        out.append(
            {"method": "follow_up_waves", "formula": formula, "reference": ref, "notes": notes}
        )
    formula, ref = _SMALL_SAMPLE[plan.small_sample]
    out.append({"method": "small_sample", "formula": formula, "reference": ref, "notes": notes})
    out.append(
        {
            "method": "multiple_comparisons",
            "formula": family,
            "reference": _CORRECTIONS[plan.correction],
            "notes": notes,
        }
    )
    return out
