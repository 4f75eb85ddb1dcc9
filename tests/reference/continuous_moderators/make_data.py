"""Writes data.csv for continuous_moderators.R (run from the repository root:
`.venv/bin/python tests/reference/continuous_moderators/make_data.py`).

300 participants in three arms; `slider` is a 0-100 answer (more than 20 distinct
values, a few missing) that moderates the care frame's effect on `y`.
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261203)
n = 300
arm = np.repeat(["control", "care", "liberty"], n // 3)
slider = rng.integers(0, 101, size=n).astype(float)
slider[rng.choice(n, size=9, replace=False)] = np.nan
effect = np.where(arm == "care", 0.4 + 0.02 * (np.nan_to_num(slider, nan=50) - 50), 0.0)
effect += np.where(arm == "liberty", 0.2, 0.0)
y = np.round(3 + effect + rng.normal(0, 1.2, size=n), 3)
out = Path(__file__).with_name("data.csv")
pd.DataFrame({"arm": arm, "slider": slider, "y": y}).to_csv(out, index=False)
