"""Collects the tidy frames of ``run`` and the warnings raised on the way.

``Collector.attempt`` runs one estimator and keeps its table, or turns a numerical
failure on study data (ValueError, ArithmeticError, a RuntimeWarning, LinAlgError)
into a warning record naming the method, the outcome and, when known, the arm.

Examples
--------
>>> c = Collector()
>>> c.attempt("effects", "demo", "y", lambda: pd.DataFrame({"arm": ["t"], "estimate": [1.0]}))
>>> c.attempt("effects", "broken", "y", lambda: 1 / np.zeros(1))
>>> c.records("effects")
[{'arm': 't', 'estimate': 1.0}]
>>> [w["code"] for w in c.warnings]
['estimator_failed']
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from analysis import summaries


class Collector:
    """Accumulates tidy frames per results key and the warnings raised on the way."""

    def __init__(self) -> None:
        self.frames: dict[str, list[pd.DataFrame]] = {}
        self.warnings: list[dict] = []

    def warn(
        self,
        code: str,
        message: str,
        outcome: str | None = None,
        arm: str | None = None,
        method: str | None = None,
    ) -> None:
        self.warnings.append(
            {"code": code, "message": message, "outcome": outcome, "arm": arm, "method": method}
        )

    def add(self, key: str, frame: pd.DataFrame | None) -> None:
        if frame is not None and not frame.empty:
            self.frames.setdefault(key, []).append(frame)

    def attempt(self, key: str, method: str, outcome: str, fn: Callable[[], pd.DataFrame]) -> None:
        # Numerical trouble (0/0 in a degenerate arm, overflow) is a property of the data:
        # record it with the reason instead of returning NaNs silently or crashing.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                self.add(key, fn())
        except (ValueError, ArithmeticError, RuntimeWarning, np.linalg.LinAlgError) as exc:
            # A SeparationError / NumericalError knows the arm at fault (when there is one).
            code = getattr(exc, "warning_code", "estimator_failed")
            arm = getattr(exc, "arm", None)
            self.warn(code, f"{method} not estimated: {exc}", outcome, arm, method)

    def records(self, key: str) -> list[dict]:
        frames = self.frames.get(key)
        if not frames:
            return []
        return summaries.records(pd.concat(frames, ignore_index=True))
