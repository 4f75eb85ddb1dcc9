"""tools/lowest_constraints.py: pyproject lower bounds -> the pip constraints of `make test-lowest`."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "lowest_constraints.py"

_spec = importlib.util.spec_from_file_location("lowest_constraints", SCRIPT)
lowest_constraints = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lowest_constraints)


def _pins(lines: list[str]) -> dict[str, str]:
    return dict(line.split("==", 1) for line in lines)


def _project(deps: list[str], **extras: list[str]) -> dict:
    return {"project": {"dependencies": deps, "optional-dependencies": extras}}


def test_every_runtime_and_dev_dependency_of_pyproject_is_pinned_to_its_greater_equal_bound():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = (
        pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["dev"]
    )
    # Read the bounds with a plain pattern rather than packaging, so the check is independent.
    expected = {}
    for line in declared:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*>=\s*([0-9][0-9.]*)\s*", line)
        assert match, f"{line!r} should be 'name>=X' (every dependency states its lower bound)"
        expected[match[1].lower()] = match[3]

    lines = lowest_constraints.constraint_lines(
        lowest_constraints.declared_requirements(pyproject, ["dev"])
    )

    got = {name.lower(): version for name, version in _pins(lines).items()}
    assert got == expected
    assert len(lines) == len(declared)
    assert got["numpy"] == expected["numpy"] and "psycopg" in got  # extras dropped: psycopg[binary]
    assert not any("[" in line for line in lines), "pip refuses extras in a constraints file"


def test_a_dependency_without_a_lower_bound_is_an_error_that_names_each_one():
    project = _project(["numpy>=1.26", "requests", "pandas<3"], dev=["pytest>1", "ruff!=0.5"])

    with pytest.raises(ValueError) as excinfo:
        lowest_constraints.constraint_lines(
            lowest_constraints.declared_requirements(project, ["dev"])
        )

    message = str(excinfo.value)
    for name in ("requests", "pandas<3", "pytest>1", "ruff!=0.5"):
        assert f"{name}: no lower bound" in message
    assert "numpy" not in message


def test_compatible_release_exact_pin_tightest_bound_markers_and_extras():
    reqs = [
        Requirement(text)
        for text in [
            "alpha~=1.4.2",
            "beta==2.0",
            "gamma>=1.2,>=1.5,<3",
            "delta[fast,slow]>=0.9",
            'epsilon>=4.1; python_version < "3.13"',
            "Zeta_Pkg>=1.0",
            "zeta-pkg>=1.3",  # the same distribution again (say in an extra): the higher bound wins
        ]
    ]

    lines = lowest_constraints.constraint_lines(reqs)

    assert lines == [
        "alpha==1.4.2",
        "beta==2.0",
        "gamma==1.5",
        "delta==0.9",
        'epsilon==4.1 ; python_version < "3.13"',
        "zeta-pkg==1.3",
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("alpha==1.*", "is a wildcard"),
        ("alpha>=1.0,!=1.0", "its lower bound 1.0 is excluded by its own specifier"),
        ("alpha>=2.0,<2.0", "its lower bound 2.0 is excluded by its own specifier"),
    ],
)
def test_a_lower_bound_that_is_not_one_installable_version_is_refused(text, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        lowest_constraints.lower_bound(Requirement(text))


def test_an_unknown_extra_is_refused_with_the_extras_that_exist():
    with pytest.raises(ValueError, match=r"extra 'docs' is not in .*\(dev, test\)"):
        lowest_constraints.declared_requirements(_project([], test=[], dev=[]), ["docs"])


def _write_pyproject(path: Path, deps: list[str], dev: list[str]) -> Path:
    quoted = lambda items: ", ".join(f'"{item}"' for item in items)  # noqa: E731
    path.write_text(
        f'[project]\nname = "x"\ndependencies = [{quoted(deps)}]\n'
        f"[project.optional-dependencies]\ndev = [{quoted(dev)}]\n",
        encoding="utf-8",
    )
    return path


def test_command_line_writes_the_constraints_file_with_the_extra(tmp_path):
    pyproject = _write_pyproject(tmp_path / "pyproject.toml", ["numpy>=1.26"], ["pytest>=8.0"])
    out = tmp_path / "constraints.txt"

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--pyproject", str(pyproject), "--extra", "dev", "-o", out],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    body = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    assert body == ["numpy==1.26", "pytest==8.0"]


def test_command_line_fails_without_writing_when_a_bound_is_missing(tmp_path):
    pyproject = _write_pyproject(tmp_path / "pyproject.toml", ["numpy"], [])
    out = tmp_path / "constraints.txt"

    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--pyproject", str(pyproject), "-o", out],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 2
    assert "numpy: no lower bound" in result.stderr
    assert not out.exists()
