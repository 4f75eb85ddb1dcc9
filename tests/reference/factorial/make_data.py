"""Writes factorial_data.csv: a 2x2 (value x messenger) design plus a control (seed 1919).

Unequal cells and spreads, so HC2 differs from the classical SE. Run from the root:
.venv/bin/python tests/reference/factorial/make_data.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(1919)
cells = [
    ("control", None, None, 52, 4.0, 1.2),
    ("care_refugee", "care", "refugee", 47, 4.6, 1.5),
    ("care_neighbour", "care", "neighbour", 55, 4.3, 1.1),
    ("loyalty_refugee", "loyalty", "refugee", 41, 4.1, 1.9),
    ("loyalty_neighbour", "loyalty", "neighbour", 60, 4.5, 1.3),
]
rows = []
for arm, value, messenger, n, mean, sd in cells:
    y = np.clip(np.rint(rng.normal(mean, sd, size=n)), 1, 7)
    rows += [(arm, value, messenger, float(v)) for v in y]
d = pd.DataFrame(rows, columns=["arm", "factor_value", "factor_messenger", "welcome"])
d.loc[rng.choice(len(d), size=5, replace=False), "welcome"] = np.nan
d.to_csv(Path(__file__).with_name("factorial_data.csv"), index=False)
