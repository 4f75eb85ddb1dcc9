"""docs/code-map.md describes the tree as it is (issue 18).

Its module list is written from the modules' docstrings by tools/code_map.py, so a new,
moved or renamed module, or a docstring that changed its first sentence, makes the file
stale; every path the README and the map name exists.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("code_map", ROOT / "tools" / "code_map.py")
code_map = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(code_map)
PATH = re.compile(r"`((?:framelab|analysis|tests|tools|docs|benchmarks)/[\w./-]*)`")


def test_the_module_list_is_current():
    current = code_map.MAP.read_text(encoding="utf-8")
    assert code_map.rendered(current) == current, "stale: run python tools/code_map.py"


def test_every_module_is_listed():
    text = code_map.MAP.read_text(encoding="utf-8")
    for package in ("framelab", "analysis"):
        for module in (ROOT / package).rglob("*.py"):
            rel = module.relative_to(ROOT).as_posix()
            if module.name == "__init__.py" or rel.startswith(code_map.SKIP):
                continue
            assert f"`{rel}`" in text, f"{rel} is missing from docs/code-map.md"


def test_every_named_path_exists():
    for doc in (ROOT / "README.md", code_map.MAP):
        for path in PATH.findall(doc.read_text(encoding="utf-8")):
            assert (ROOT / path.rstrip("/")).exists(), f"{doc.name} names {path}, which is gone"
