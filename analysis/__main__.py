"""Command line: ``python -m analysis run|report DATA --plan PLAN.yaml --out PATH``.

DATA is a tidy export as CSV, Parquet, SPSS (.sav) or Stata (.dta), told apart by
the file's extension; every format gives the same results.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text, out_help in (
        ("run", "run the analysis plan and write the results JSON", "results JSON file"),
        ("report", "run the analysis plan and write the HTML report", "output directory"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument(
            "data",
            type=Path,
            help="tidy export, one row per participant: .csv, .parquet, .sav or .dta",
        )
        p.add_argument("--plan", type=Path, required=True, help="analysis plan (YAML or JSON)")
        p.add_argument("--out", type=Path, required=True, help=out_help)
    from analysis.report.i18n import LANGUAGES

    sub.choices["report"].add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="language of the campaigner summary, headings and plots (default: the plan's)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from analysis.data_files import read_data
    from analysis.plan import load_plan
    from analysis.run import run

    try:
        plan = load_plan(args.plan)
        data = read_data(args.data, plan)
        results = run(data, plan)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, allow_nan=False), encoding="utf-8")
        print(args.out)
        return 0
    from analysis.report import write_report

    print(write_report(results, args.out, data=data, lang=args.lang))
    return 0


if __name__ == "__main__":
    sys.exit(main())
