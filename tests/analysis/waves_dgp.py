"""A two-wave framing study with planted decay, in the shape of framelab's export (issue 21).

The one data-generating process the wave calibration test, framelab's ``simulate`` of a
two-wave rehearsal and the end-to-end test share, so they plant the same truth:

* wave-1 effect of the frame ``EFFECT_W1`` = 0.6 outcome SDs, wave-2 effect
  ``EFFECT_W2`` = 0.3 (half remains: ``SHARE`` = 0.5);
* each wave's outcome has SD 1 in every arm; a participant's two answers correlate
  ``CORRELATION`` = 0.5;
* who returns depends on the arm only (``RETURN_RATES``: control 60%, frame 45%), not
  on the answers, so the estimates on the returners stay unbiased while the return
  rates differ (the report must flag it).

Columns: ``participant``, ``arm``, ``status`` (all ``completed``), ``support`` (wave 1),
``w2_support`` (empty when not returned) and ``w2_returned`` (1/0), as the export's
contract names them for a wave ``w2`` asking ``support`` again.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

EFFECT_W1 = 0.6
EFFECT_W2 = 0.3
SHARE = EFFECT_W2 / EFFECT_W1
CORRELATION = 0.5
CONTROL, FRAME = "control", "fairness"
RETURN_RATES = {CONTROL: 0.60, FRAME: 0.45}
WAVE = {"id": "w2", "after_days": 7, "items": ["support"], "window_days": 7}


def two_wave_plan(**extra: Any) -> dict[str, Any]:
    """The analysis plan of :func:`two_wave_study` (one continuous outcome, one wave)."""
    return {
        "arm": "arm",
        "control": CONTROL,
        "status": "status",
        "outcomes": [{"name": "support", "label": "support for the policy"}],
        "arm_labels": {CONTROL: "Control", FRAME: "Fairness"},
        "waves": [dict(WAVE)],
        "ri_draws": 200,
        "seed": 1,
        **extra,
    }


def draw(
    rng: np.random.Generator,
    n_control: int,
    n_frame: int,
    reps: int = 1,
    return_rates: dict[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """``reps`` studies at once: arrays of shape (reps, n_control + n_frame).

    ``treated`` (bool, the same in every row: the first ``n_control`` are control),
    ``first`` and ``later`` (the two answers; ``later`` is NaN when not returned) and
    ``returned`` (0/1). ``return_rates`` (arm -> share) replaces ``RETURN_RATES``.
    """
    rates = return_rates or RETURN_RATES
    n = n_control + n_frame
    treated = np.arange(n) >= n_control
    z1 = rng.standard_normal((reps, n))
    z2 = CORRELATION * z1 + np.sqrt(1 - CORRELATION**2) * rng.standard_normal((reps, n))
    first = z1 + EFFECT_W1 * treated
    later = z2 + EFFECT_W2 * treated
    rate = np.where(treated, rates[FRAME], rates[CONTROL])
    returned = (rng.random((reps, n)) < rate).astype(float)
    later = np.where(returned == 1, later, np.nan)
    return {"treated": treated, "first": first, "later": later, "returned": returned}


def two_wave_study(
    n_control: int = 300, n_frame: int = 300, seed: int = 21, rep: int = 0
) -> pd.DataFrame:
    """One simulated study as framelab's export would hold it (see the module docstring)."""
    d = draw(np.random.default_rng(seed), n_control, n_frame, rep + 1)
    return as_export(d, rep)


@functools.cache
def _ids(n: int) -> np.ndarray:
    return np.array([f"p{i:05d}" for i in range(n)], dtype=object)


def as_export(d: dict[str, np.ndarray], rep: int = 0) -> pd.DataFrame:
    """Row ``rep`` of :func:`draw`'s arrays as an export table."""
    n = d["treated"].size
    return pd.DataFrame(
        {
            "participant": _ids(n),
            "arm": np.where(d["treated"], FRAME, CONTROL),
            "status": "completed",
            "support": d["first"][rep],
            "w2_support": d["later"][rep],
            "w2_returned": d["returned"][rep].astype(int),
        }
    )
