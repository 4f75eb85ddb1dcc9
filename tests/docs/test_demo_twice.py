"""`make demo` runs twice in a row and the second report has more rehearsal participants.

The README says running the demo again keeps the database and adds simulated
participants. This test reads the demo recipe from the Makefile itself (every
`framelab` line except the final `serve`, which serves until stopped), runs it twice on
one fresh instance in a temporary folder, with fewer bots than the demo's 800 so that
it fits the suite's time, and compares the two rehearsal reports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOTS = "30"


def demo_steps() -> list[str]:
    """The demo recipe's framelab commands, in order, without `serve`."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*?\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe, "Makefile: no demo recipe"
    settings = dict(re.findall(r"^([A-Z_]+)\s*:=\s*(.*?)\s*$", makefile, re.M))
    steps = []
    for line in recipe.group(1).splitlines():
        line = line.strip().lstrip("@")
        if not line.startswith("$(BIN)/framelab ") or " serve " in f"{line} ":
            continue
        line = line.replace("$(BIN)/", "").replace("$(DEMO_STUDY)", settings["DEMO_STUDY"])
        assert "$(" not in line, line
        steps.append(line)
    return steps


def _run(steps: list[str], cwd: Path, env: dict[str, str]) -> None:
    for step in steps:
        done = subprocess.run(
            ["bash", "-c", step], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"{step}\n{done.stdout}\n{done.stderr}"


def test_the_demo_recipe_is_what_this_test_runs():
    steps = demo_steps()
    assert [s.split()[1] for s in steps] == ["init-db", "load-study", "simulate", "report"]
    assert "--rehearsal" in steps[-1] and "--n 800" in steps[2]


def test_the_demo_runs_twice_and_the_second_report_has_more_rehearsal_participants(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRAMELAB_")}
    env.pop("DATABASE_URL", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["FRAMELAB_INSTANCE_PATH"] = str(tmp_path / "instance")
    steps = [s.replace("--n 800", f"--n {BOTS}") for s in demo_steps()]
    inputs = []
    for _ in range(2):
        _run(steps, tmp_path, env)
        results = json.loads((tmp_path / "reports/torture-ban/results.json").read_text())
        assert results["meta"]["provenance"]["rehearsal"] is True
        inputs.append(results["meta"]["n_input"])
    assert inputs[0] == int(BOTS)
    assert inputs[1] > inputs[0]
    html = (tmp_path / "reports/torture-ban/index.html").read_text(encoding="utf-8")
    assert "REHEARSAL" in html
