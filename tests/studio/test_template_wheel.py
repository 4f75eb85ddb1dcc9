"""The study templates ship inside the package: a study is created from each one in a fresh
virtual environment that has the built wheel installed (not this source tree).

The wheel is built by pip (its isolated build environment brings the setuptools that
pyproject's build-system asks for) and installed with --no-deps; the environment reaches
the dependencies through a .pth line naming this interpreter's site-packages, which
Python reads as a plain path (so the editable install of the source tree is not active).
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from framelab.services.study_drafts import TEMPLATE_FOLDER

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path

import framelab
from framelab.db import full_metadata
from framelab.db.session import make_engine, make_session_factory
from framelab.domain.confounds import placeholder_locations
from framelab.services import accounts, study_drafts

now = datetime(2026, 12, 3, tzinfo=UTC)
engine = make_engine("sqlite:///" + sys.argv[1])
full_metadata().create_all(engine)
session = make_session_factory(engine)()
owner = accounts.create_user(session, "owner@example.org", "long enough password", now=now)
created = {}
for name in study_drafts.templates():
    spec = study_drafts.spec_from_template(name, f"from-{name}", ["en"])
    loaded = study_drafts.create_study(session, spec, owner=owner, now=now)
    created[name] = {
        "slug": loaded.slug,
        "languages": loaded.spec.languages,
        "arms": len(loaded.spec.arms),
        "completion": loaded.spec.completion is not None,
        "to_fill": len(placeholder_locations(loaded.spec)),
    }
engine.dispose()
print(json.dumps({"package": framelab.__file__, "created": created}))
"""


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-4000:])
    return result


@pytest.mark.slow
def test_a_study_is_created_from_every_template_of_the_installed_wheel(tmp_path):
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)])
    [wheel] = wheels.glob("framelab-*.whl")
    # Every file of the two packages ships (the studio's own static files once did not).
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    in_tree = {
        path.relative_to(ROOT).as_posix()
        for package in ("framelab", "analysis")
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert sorted(in_tree - in_wheel) == []
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    install = ["install", "-q", "--no-deps", "--no-index", "--target", str(site), str(wheel)]
    _run([sys.executable, "-m", "pip", *install])
    (site / "zz_framelab_dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    out = _run(
        [str(python), "-c", SCRIPT, str(tmp_path / "studies.sqlite")],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # The wheel's package, not the source tree, made the studies.
    assert result["package"].startswith(str(site))
    shipped = sorted(p.stem for p in TEMPLATE_FOLDER.glob("*.yaml"))
    assert shipped == ["blank", "factorial-messenger", "follow-up-waves", "value-frames"]
    assert sorted(result["created"]) == shipped
    for name, made in result["created"].items():
        assert made["slug"] == f"from-{name}"
        assert made["languages"] == ["en"]
        assert made["completion"] is False
        assert made["to_fill"] > 0, name  # the campaigner is shown what to write
    assert result["created"]["blank"]["arms"] == 2
    assert result["created"]["value-frames"]["arms"] == 5


def test_every_package_data_glob_names_files_of_the_tree():
    """A glob that matches nothing (a folder since moved or deleted) is a stale entry."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    stale = [
        f"{package}: {pattern}"
        for package, patterns in package_data.items()
        for pattern in patterns
        if not any(path.is_file() for path in (ROOT / package).glob(pattern))
    ]
    assert stale == []
