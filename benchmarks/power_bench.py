"""Simulated power for the demo study as written: `framelab power examples/torture-ban.yaml
--sims 2000`, timed as a user runs it (a fresh process), with its figures (issue 19).

A figure, not a timed test: the acceptance is that the command finishes in under a
minute on the 2-core machine; tests/analysis/test_power_design.py checks the numbers.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY = ROOT / "examples" / "torture-ban.yaml"
ROW = re.compile(
    r"^(\w+)\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+)\s+([\d.]+)%\s+([\d,]+)\s+([\d,]+)$", re.M
)


def run_power(sims: int = 2000, log=print) -> dict:
    """Wall time and per-frame figures of `framelab power` on the demo study."""
    framelab = Path(sys.executable).with_name("framelab")  # the console script of this venv
    command = [str(framelab), "power", str(STUDY), "--sims", str(sims)]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        return {"error": done.stderr[-2000:] or done.stdout[-2000:], "wall_s": wall}
    frames = [
        {
            "arm": m[0],
            "effect_d": float(m[1]),
            "power": float(m[2]) / 100,
            "mc_se": float(m[3]) / 100,
            "analytic_power": float(m[4]) / 100,
            "n_80": int(m[5].replace(",", "")),
            "n_90": int(m[6].replace(",", "")),
        }
        for m in ROW.findall(done.stdout)
    ]
    log(f"  framelab power {STUDY.name} --sims {sims}: {wall:.1f} s (target: under 60 s)")
    for f in frames:
        log(
            f"    {f['arm']:<10} power {100 * f['power']:5.1f}% ± {100 * f['mc_se']:.1f} "
            f"(analytic {100 * f['analytic_power']:.1f}%), N 80% {f['n_80']:,}, "
            f"N 90% {f['n_90']:,}"
        )
    return {"study": STUDY.name, "sims": sims, "wall_s": wall, "frames": frames}
