"""Analysis benchmark: `analysis.run` and its OLS/HC2 estimators against a bare numpy floor.

Each measurement runs in a fresh subprocess (`python -m benchmarks.analysis_bench --mode M
--n N`), so its peak resident memory is its own: the child reports its VmHWM (peak resident
set since exec); `os.wait4`'s ru_maxrss is recorded too, as an upper bound. Modes:

- `run`: the whole `analysis.run(df, plan)` on synthetic data (4 arms, 2 outcomes,
  5 covariates, 3 blocks, 10,000 randomization-inference draws);
- `shared`: only the estimators the floor also computes — `difference_in_means` (unblocked),
  `lin`, `ancova`, `change_score` — called through the package's public functions;
- `floor`: the same point estimates and HC2 standard errors by bare numpy least squares
  (`np.linalg.lstsq` for the coefficients, (X'X)^-1 for leverage and the sandwich).

`shared` and `floor` print their estimates; the parent checks they agree, so the floor is
known to compute the same numbers it is compared with.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ARMS = ("control", "care", "fairness", "liberty")
COVARIATES = ("pre_ideology", "pre_age_group", "pre_scale_care", "pre_scale_liberty", "pre_support")
OUTCOMES = ("post_support", "post_join_sms")
EFFECTS = {"control": 0.0, "care": 0.3, "fairness": 0.15, "liberty": -0.1}


def synthetic_data(n: int, seed: int = 20261125) -> dict[str, np.ndarray]:
    """Columns of a framelab tidy export: blocked assignment, pre measures, two outcomes."""
    rng = np.random.default_rng(seed)
    stratum = rng.choice(np.array(["left", "centre", "right"]), size=n, p=[0.35, 0.3, 0.35])
    arm = np.empty(n, dtype=object)
    for s in ("left", "centre", "right"):
        idx = np.flatnonzero(stratum == s)
        # Permuted blocks of 8 (2 per arm) within the stratum, like the example study's design.
        blocks = np.concatenate(
            [rng.permutation(np.repeat(ARMS, 2)) for _ in range(len(idx) // 8 + 1)]
        )
        arm[idx] = blocks[: len(idx)]
    ideology = np.clip(
        np.select(
            [stratum == "left", stratum == "centre"],
            [rng.integers(1, 3, n), np.full(n, 3)],
            rng.integers(4, 6, n),
        ),
        1,
        5,
    ).astype(float)
    care = np.clip(rng.normal(4.0 - 0.3 * (ideology - 3), 0.7), 1, 5)
    liberty = np.clip(rng.normal(3.2 + 0.2 * (ideology - 3), 0.8), 1, 5)
    pre_support = np.clip(np.round(rng.normal(4.5 - 0.5 * (ideology - 3), 1.3)), 1, 7)
    effect = np.vectorize(EFFECTS.get, otypes=[float])(arm)
    post_support = np.clip(
        np.round(pre_support + effect + 0.2 * (care - 4) + rng.normal(0, 0.9, n)), 1, 7
    )
    join = (rng.random(n) < 1 / (1 + np.exp(-(-0.8 + 0.8 * effect + 0.3 * (care - 4))))).astype(
        float
    )
    return {
        "participant": np.array([f"p{i:07d}" for i in range(n)], dtype=object),
        "arm": arm,
        "stratum": stratum.astype(object),
        "attention_failed": rng.random(n) < 0.03,
        "pre_ideology": ideology,
        "pre_age_group": rng.integers(1, 6, n).astype(float),
        "pre_scale_care": care,
        "pre_scale_liberty": liberty,
        "pre_support": pre_support,
        "post_support": post_support,
        "post_join_sms": join,
    }


def plan(draws: int) -> dict[str, Any]:
    """The analysis plan framelab would export for such a study."""
    return {
        "arm": "arm",
        "control": "control",
        "outcomes": [
            {
                "name": "post_support",
                "type": "continuous",
                "baseline": "pre_support",
                "primary": True,
            },
            {"name": "post_join_sms", "type": "binary"},
        ],
        "covariates": list(COVARIATES),
        "blocks": "stratum",
        "alpha": 0.05,
        "correction": "holm",
        "exclude": {"attention_failed": True},
        "ri_draws": draws,
        "seed": 7,
    }


def _frame(columns: dict[str, np.ndarray]):
    import pandas as pd

    frame = pd.DataFrame(columns)
    return frame[~frame["attention_failed"]].reset_index(drop=True)


def hc2_floor(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and HC2 standard errors with nothing but numpy."""
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    xtx_inv = np.linalg.inv(X.T @ X)
    leverage = np.sum((X @ xtx_inv) * X, axis=1)
    resid = y - X @ beta
    weighted = X * (resid**2 / (1.0 - leverage))[:, None]
    cov = xtx_inv @ (X.T @ weighted) @ xtx_inv
    return beta, np.sqrt(np.diag(cov))


def floor_estimates(frame) -> dict[str, list[float]]:
    """Per outcome and method: [estimate, std_error] for each frame arm, in ARMS order."""
    arm = frame["arm"].to_numpy()
    D = np.column_stack([(arm == a).astype(float) for a in ARMS[1:]])
    X_cov = np.column_stack([frame[c].to_numpy(dtype=float) for c in COVARIATES])
    Xc = X_cov - X_cov.mean(axis=0)
    ones = np.ones((len(frame), 1))
    baseline = frame["pre_support"].to_numpy(dtype=float)
    inter = (D[:, :, None] * Xc[:, None, :]).reshape(len(frame), -1)
    designs = {
        "lin": np.hstack([ones, D, Xc, inter]),
        "ancova": np.hstack([ones, D, baseline[:, None]]),
        "change_score": np.hstack([ones, D]),
    }
    out: dict[str, list[float]] = {}
    control = arm == ARMS[0]
    for outcome in OUTCOMES:
        y = frame[outcome].to_numpy(dtype=float)
        # Each arm against control on the two arms' rows: HC2 on one dummy (= Welch).
        for k, a in enumerate(ARMS[1:]):
            rows = control | (arm == a)
            beta, se = hc2_floor(np.column_stack([ones[rows], D[rows, k]]), y[rows])
            out.setdefault(f"{outcome}/difference_in_means", []).extend([beta[1], se[1]])
        for method, X in designs.items():
            if method in ("ancova", "change_score") and outcome != "post_support":
                continue
            target = y - baseline if method == "change_score" else y
            beta, se = hc2_floor(X, target)
            out[f"{outcome}/{method}"] = [v for k in range(3) for v in (beta[1 + k], se[1 + k])]
    return out


def shared_estimates(frame) -> dict[str, list[float]]:
    """The same numbers through the analysis package's public estimators."""
    import analysis

    out: dict[str, list[float]] = {}
    for outcome in OUTCOMES:
        fits = {
            "difference_in_means": analysis.difference_in_means(frame, outcome, "arm", "control"),
            "lin": analysis.lin(frame, outcome, "arm", "control", list(COVARIATES)),
        }
        if outcome == "post_support":
            fits["ancova"] = analysis.ancova(frame, outcome, "arm", "control", "pre_support")
            fits["change_score"] = analysis.change_score(
                frame, outcome, "arm", "control", "pre_support"
            )
        for method, tidy in fits.items():
            tidy = tidy.set_index("arm").loc[list(ARMS[1:])]
            out[f"{outcome}/{method}"] = [
                float(v)
                for pair in zip(tidy["estimate"], tidy["std_error"], strict=True)
                for v in pair
            ]
    return out


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(mode: str, n: int, draws: int, profile: str | None) -> dict[str, Any]:
    """Body of one subprocess measurement; returns what it prints as JSON."""
    import pandas  # noqa: F401  (import cost is not part of the measurement)

    import analysis

    frame = _frame(synthetic_data(n))
    base_rss = _rss_mb("VmRSS")
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    estimates: dict[str, list[float]] = {}
    summary: dict[str, Any] = {}
    if mode == "run":
        began = time.perf_counter()
        result = analysis.run(frame, plan(draws))
        wall = time.perf_counter() - began
        summary = {
            "effects": len(result["effects"]),
            "warnings": [w["code"] for w in result["warnings"]],
        }
    elif mode in ("shared", "floor"):
        compute = shared_estimates if mode == "shared" else floor_estimates
        # Best of three (one at a million rows, where a repeat costs minutes): the machine is
        # shared with other work, and the minimum is the closest to the code's own cost.
        times = []
        for _ in range(3 if n <= 200_000 else 1):
            began = time.perf_counter()
            estimates = compute(frame)
            times.append(time.perf_counter() - began)
        wall = min(times)
    else:
        raise ValueError(f"mode: {mode!r} is not a mode (expected run, shared or floor)")
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    return {
        "mode": mode,
        "n": n,
        "n_analysed": len(frame),
        "draws": draws,
        "wall_s": round(wall, 4),
        "base_rss_mb": round(base_rss, 1),
        # VmHWM: this process's own peak since exec (see measure() for why not wait4's).
        "peak_rss_mb": round(_rss_mb("VmHWM"), 1),
        "estimates": estimates,
        **summary,
    }


def measure(
    mode: str, n: int, draws: int, *, timeout: float, profile: str | None = None
) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; add its peak RSS (from wait4) in MB."""
    cmd = [sys.executable, "-m", "benchmarks.analysis_bench", "--mode", mode, "--n", str(n)]
    cmd += ["--draws", str(draws)]
    if profile:
        cmd += ["--profile", profile]
    # Single-threaded BLAS for every mode unless FRAMELAB_BENCH_BLAS_THREADS says otherwise:
    # on a busy 2-core machine threaded OpenBLAS spin-waits and ran the floor 9x slower.
    threads = os.environ.get("FRAMELAB_BENCH_BLAS_THREADS", "1")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        out, err = proc.stdout.read(), proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        proc.stderr.close()
    if proc.returncode != 0:
        reason = "timeout" if proc.returncode == -9 else err.decode(errors="replace")[-2000:]
        return {"mode": mode, "n": n, "error": reason}
    record = json.loads(out.decode().strip().splitlines()[-1])
    # wait4's ru_maxrss also counts the parent's resident size copied at fork (Linux keeps
    # the pre-exec high-water mark), so a small child reported the orchestrator's 280 MB;
    # the child's own VmHWM is the figure. wait4's value is kept as an upper bound.
    record["max_rss_with_fork_mb"] = round(usage.ru_maxrss / 1024, 1)
    if record.get("peak_rss_mb") != record.get("peak_rss_mb"):  # NaN: no /proc
        record["peak_rss_mb"] = record["max_rss_with_fork_mb"]
    return record


def max_relative_difference(a: dict[str, list[float]], b: dict[str, list[float]]) -> float:
    """Largest relative difference between two estimate sets (inf when keys differ)."""
    if set(a) != set(b):
        return float("inf")
    worst = 0.0
    for key, values in a.items():
        x, y = np.asarray(values), np.asarray(b[key])
        worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-12))))
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", required=True, choices=["run", "shared", "floor"])
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--profile", default=None)
    args = parser.parse_args(argv)
    print(json.dumps(worker(args.mode, args.n, args.draws, args.profile)))


if __name__ == "__main__":
    main()
