"""Write a pip constraints file that pins every declared dependency to its lower bound.

`make test-lowest` installs the project with this file (`pip install -c FILE -e '.[dev]'`)
so the suite runs against the oldest versions `pyproject.toml` claims to support; the
dependencies of those dependencies resolve as usual. `>=X`, `~=X` and `==X` give `==X`.
A dependency with no inclusive lower bound cannot be pinned, so it is an error: every
dependency must state the oldest version it was tested with.

Usage: python tools/lowest_constraints.py [--pyproject FILE] [--extra NAME ...] [-o FILE]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

LOWER_BOUND_OPERATORS = (">=", "~=", "==")


def lower_bound(requirement: Requirement) -> Version:
    """The oldest version a requirement allows, from its `>=`, `~=` or `==` clause.

    Raises ValueError, naming the requirement, when there is no such clause (no
    specifier, or only `>`, `<`, `<=`, `!=`) or when `==` holds a wildcard.
    """
    bounds = []
    for spec in requirement.specifier:
        if spec.operator not in LOWER_BOUND_OPERATORS:
            continue
        if spec.version.endswith(".*"):
            raise ValueError(f"{requirement}: '{spec}' is a wildcard, not one lowest version")
        bounds.append(Version(spec.version))
    if not bounds:
        raise ValueError(
            f"{requirement}: no lower bound; state the oldest supported version "
            f"with one of {', '.join(LOWER_BOUND_OPERATORS)}"
        )
    lowest = max(bounds)  # with two lower bounds, the tighter one decides
    if not requirement.specifier.contains(lowest, prereleases=True):
        raise ValueError(
            f"{requirement}: its lower bound {lowest} is excluded by its own specifier"
        )
    return lowest


def declared_requirements(pyproject: dict, extras: Iterable[str]) -> list[Requirement]:
    """`[project].dependencies` plus the named optional-dependency groups, in file order."""
    project = pyproject["project"]
    lines = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            known = ", ".join(sorted(optional)) or "none"
            raise ValueError(f"extra {extra!r} is not in [project.optional-dependencies] ({known})")
        lines.extend(optional[extra])
    return [Requirement(line) for line in lines]


def constraint_lines(requirements: Iterable[Requirement]) -> list[str]:
    """One `name==lowest` line per distribution (pip refuses extras in constraints).

    Every requirement without a lower bound is reported at once. A distribution listed
    twice (say in the runtime list and in an extra) gets the higher of its two bounds.
    """
    pins: dict[str, tuple[str, Version, str]] = {}
    errors = []
    for req in requirements:
        try:
            version = lower_bound(req)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        key = canonicalize_name(req.name)
        marker = f" ; {req.marker}" if req.marker else ""
        if key not in pins or version > pins[key][1]:
            pins[key] = (req.name, version, marker)
    if errors:
        raise ValueError("cannot pin to lower bounds:\n  " + "\n  ".join(errors))
    return [f"{name}=={version}{marker}" for name, version, marker in pins.values()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"))
    parser.add_argument(
        "--extra", action="append", default=[], help="optional-dependency group to include"
    )
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    args = parser.parse_args(argv)
    try:
        with args.pyproject.open("rb") as fh:
            pyproject = tomllib.load(fh)
        lines = constraint_lines(declared_requirements(pyproject, args.extra))
    except (OSError, ValueError) as exc:
        print(f"lowest_constraints: {exc}", file=sys.stderr)
        return 2
    groups = " + ".join(["dependencies", *(f"[{extra}]" for extra in args.extra)])
    text = f"# lower bounds of {args.pyproject.name} ({groups}), by tools/lowest_constraints.py\n"
    text += "".join(line + "\n" for line in lines)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
