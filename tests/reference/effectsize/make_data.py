"""Write the synthetic datasets that effectsize.R and the tests read.

Run from the repository root: ``.venv/bin/python tests/reference/effectsize/make_data.py``,
then ``Rscript tests/reference/effectsize/effectsize.R``.

- ``synthetic.csv``: a control and three frame arms of unequal size with a small
  positive, a small negative and a large effect (t about 15), values to 3 decimals.
- ``synthetic_large.csv``: 500 per arm and d about 2.5, so t is about 39: beyond
  |ncp| = 37.62, where R's ``pt(q, df, ncp)`` switches to a normal approximation
  (Abramowitz & Stegun 26.7.10), so R and scipy's exact noncentral t part ways there.
- ``tiny.csv``: three controls, an arm of two (df = 3) and an arm of one (df = 2).
- ``tiny_df1.csv``: two controls and an arm of one (df = 1: Hedges' J is undefined).
- ``degenerate.csv``: two arms of three whose spread is a millionth of their
  difference (t about 1.2e6), where scipy's noncentral t does not converge and
  effect_sizes falls back to the normal approximation (``fallback_reference.csv``).

The real datasets (sleep, ToothGrowth, mtcars, PlantGrowth) are written by
effectsize.R from R's ``datasets`` package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent


def synthetic() -> pd.DataFrame:
    rng = np.random.default_rng(20261203)
    sizes = {"control": 48, "care": 37, "fairness": 52, "liberty": 60}
    shifts = {"control": 0.0, "care": 0.45, "fairness": -0.2, "liberty": 3.0}
    arms, ys = [], []
    for arm, n in sizes.items():
        arms += [arm] * n
        ys.append(np.round(4.0 + shifts[arm] + rng.normal(0.0, 1.0, n), 3))
    return pd.DataFrame({"arm": arms, "support": np.concatenate(ys)})


def synthetic_large() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    y = np.concatenate([rng.normal(0.0, 1.0, 500), rng.normal(2.5, 1.0, 500)])
    return pd.DataFrame({"arm": ["control"] * 500 + ["care"] * 500, "support": np.round(y, 3)})


def tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["control", "control", "control", "two", "two", "one"],
            "support": [2.1, 3.4, 1.9, 4.0, 5.2, 4.4],
        }
    )


def tiny_df1() -> pd.DataFrame:
    return pd.DataFrame({"arm": ["control", "control", "one"], "support": [2.1, 3.4, 4.4]})


def degenerate() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "arm": ["control"] * 3 + ["care"] * 3,
            "support": [0.0, 0.001, 0.002, 1000.0, 1000.001, 1000.002],
        }
    )


if __name__ == "__main__":
    synthetic().to_csv(OUT / "synthetic.csv", index=False)
    synthetic_large().to_csv(OUT / "synthetic_large.csv", index=False)
    tiny().to_csv(OUT / "tiny.csv", index=False)
    tiny_df1().to_csv(OUT / "tiny_df1.csv", index=False)
    degenerate().to_csv(OUT / "degenerate.csv", index=False)
