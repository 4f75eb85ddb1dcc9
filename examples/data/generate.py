"""Regenerate examples/data from the current code: `python examples/data/generate.py`.

For each example study: a scratch instance (a temporary folder, SQLite), the study
loaded live, framelab's bots through its real participant pages (`framelab
simulate`: rehearsal rows), their tidy export (`framelab export --rehearsal`), and
the study's analysis plan as the `analysis` package reads it
(`framelab.services.export_plan.analysis_plan`). `tests/docs/test_example_data.py` fails
when these files no longer match the code or the study files; run this script then.

Answers and arms follow from the seeds; participant pseudonyms and the hour in the
timestamps differ between runs.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent

# study file, slug, bots, seed, planted effects (outcome units), subgroup effects
STUDIES = (
    (
        "torture-ban.yaml",
        "torture-ban",
        600,
        7,
        ("fairness=0.8", "care=0.3"),
        ("ideology:1:loyalty=-1.5", "ideology:2:loyalty=-1.5"),
    ),
    (
        "refugee-welcome-factorial.yaml",
        "refugee-welcome",
        400,
        11,
        ("care_neighbour=0.6", "loyalty_neighbour=0.4"),
        (),
    ),
)


def _run(args: list[str]) -> None:
    from framelab.cli import main

    try:
        main.main(args, prog_name="framelab", standalone_mode=False)
    except SystemExit as stop:  # click's exit after a command
        if stop.code:
            raise


def plan_json(study_file: Path) -> str:
    """The study's analysis plan as examples/data stores it."""
    from framelab.domain.study import load_study_file
    from framelab.services.export_plan import analysis_plan

    plan = analysis_plan(load_study_file(study_file))
    return json.dumps(plan, indent=2, ensure_ascii=False) + "\n"


def generate(out: Path = OUT) -> list[Path]:
    written = []
    for file, slug, n, seed, effects, moderators in STUDIES:
        with tempfile.TemporaryDirectory() as instance:
            os.environ["FRAMELAB_INSTANCE_PATH"] = instance
            os.environ.pop("FRAMELAB_DATABASE_URL", None)
            os.environ.pop("DATABASE_URL", None)
            study = ROOT / "examples" / file
            _run(["init-db"])
            _run(["load-study", str(study), "--status", "live", "--replace"])
            args = ["simulate", slug, "--n", str(n), "--seed", str(seed), "--jobs", "1"]
            args += [a for e in effects for a in ("--effect", e)]
            args += [a for m in moderators for a in ("--moderator", m)]
            _run(args)
            csv = out / f"{slug}.csv"
            _run(["export", slug, "--rehearsal", "--format", "csv", "--out", str(csv)])
            plan = out / f"{slug}-plan.json"
            plan.write_text(plan_json(study), encoding="utf-8")
            written += [csv, plan]
    return written


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for path in generate():
        print(path.relative_to(ROOT))
