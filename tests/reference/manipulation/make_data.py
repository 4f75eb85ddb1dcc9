"""Writes manipulation_data.csv: a manipulation check in a 4-arm study (seed 19).

Run from the repository root: .venv/bin/python tests/reference/manipulation/make_data.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(19)
arms = np.array(["control", "care", "loyalty", "liberty"])
n = np.array([61, 58, 64, 47])
arm = np.repeat(arms, n)
# answer 1 care, 2 loyalty, 3 liberty, 4 none; each frame picks its own with its own rate
p = {
    "control": [0.25, 0.2, 0.2, 0.35],
    "care": [0.6, 0.1, 0.1, 0.2],
    "loyalty": [0.2, 0.3, 0.15, 0.35],
    "liberty": [0.15, 0.15, 0.5, 0.2],
}
answer = np.concatenate(
    [rng.choice([1, 2, 3, 4], size=k, p=p[a]) for a, k in zip(arms, n, strict=True)]
)
answer = answer.astype(float)
answer[rng.choice(len(answer), size=6, replace=False)] = np.nan  # unanswered
out = Path(__file__).with_name("manipulation_data.csv")
pd.DataFrame({"arm": arm, "check": answer}).to_csv(out, index=False)
