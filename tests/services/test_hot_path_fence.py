"""The participant hot path is fenced: only framelab.services.participant_store runs direct statements."""

from __future__ import annotations

import ast
from pathlib import Path

import framelab

ROOT = Path(framelab.__file__).parent
STORE = ROOT / "services" / "participant_store"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_only_the_participant_store_imports_the_direct_statements():
    users = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if path != ROOT / "db" / "direct.py"
        and STORE not in path.parents
        and any(name.startswith("framelab.db.direct") for name in _imports(path))
    )
    assert users == [], "participant hot path only; everything else uses the Session"


def test_the_store_says_so_in_its_header():
    header = (STORE / "__init__.py").read_text(encoding="utf-8").splitlines()[0]
    assert header == '"""Participant hot path only; everything else uses the Session.'


def test_the_step_machine_is_pure():
    imports = _imports(ROOT / "domain" / "steps.py")
    assert not {n for n in imports if n.split(".")[0] in ("sqlalchemy", "flask")}
    assert not {n for n in imports if n.startswith(("framelab.db", "framelab.services"))}
