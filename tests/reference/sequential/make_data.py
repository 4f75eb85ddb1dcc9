"""Writes sequential_data.csv, the fixture that sequential.R analyses (seeded, run once)."""

import numpy as np
import pandas as pd

rng = np.random.default_rng(20261203)
n = 600
arm = np.tile(["control", "care", "fair"], n // 3)
x = rng.normal(4, 1.5, n)
effect = np.where(arm == "care", 0.3, np.where(arm == "fair", 0.05, 0.0))
y = 3 + 0.6 * (x - 4) + effect + rng.normal(0, 1.2 + 0.3 * (arm == "care"), n)
pd.DataFrame({"arm": arm, "x": x.round(4), "y": y.round(4)}).to_csv(
    "sequential_data.csv", index=False
)
