"""No service API that only tests use: every public service name is used by framelab itself.

A public top-level function or class of framelab/services (no leading underscore, defined
in that module) must be referred to somewhere in framelab/ outside its own definition:
in Python code (a name or an attribute, not an import line nor a string) or in a template.
A function only tests call is a second way to do what production does another way, and
the tests then test the wrong one. The allow-list below names the exceptions and why.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAMELAB = ROOT / "framelab"
SERVICES = FRAMELAB / "services"
TEMPLATE_SUFFIXES = (".html", ".txt", ".j2", ".jinja", ".xml", ".md")

# name -> why it is public though nothing in framelab/ refers to it.
ALLOWED: dict[str, str] = {}


def _public_definitions() -> dict[str, list[tuple[Path, ast.AST]]]:
    found: dict[str, list[tuple[Path, ast.AST]]] = {}
    for path in sorted(SERVICES.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in tree.body:
            kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            if isinstance(node, kinds) and not node.name.startswith("_"):
                found.setdefault(node.name, []).append((path, node))
    return found


def _references(path: Path, tree: ast.Module, skip: set[tuple[Path, str]]) -> Counter[str]:
    """Names and attributes referred to in a module's code (a recursive call is not a use)."""
    seen: Counter[str] = Counter()
    for top in tree.body:
        own = getattr(top, "name", None)
        own = own if (path, own) in skip else None  # a definition's own name in its body
        for node in ast.walk(top):
            if isinstance(node, ast.Name) and node.id != own:
                seen[node.id] += 1
            elif isinstance(node, ast.Attribute) and node.attr != own:
                seen[node.attr] += 1
    return seen


def _used_in_framelab(names: set[str], definitions) -> set[str]:
    skip = {(path, name) for name, places in definitions.items() for path, _ in places}
    used: set[str] = set()
    for path in FRAMELAB.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        used |= names & set(_references(path, tree, skip))
    words = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names))) + r")\b")
    for path in FRAMELAB.rglob("*"):
        if path.suffix in TEMPLATE_SUFFIXES and "templates" in path.parts:
            used |= set(words.findall(path.read_text(encoding="utf-8")))
    return used


def unused_service_names() -> list[str]:
    """Public service names nothing in framelab/ refers to, as module:name."""
    definitions = _public_definitions()
    used = _used_in_framelab(set(definitions), definitions)
    return sorted(
        f"{path.relative_to(ROOT).as_posix()}:{name}"
        for name, places in definitions.items()
        if name not in used and name not in ALLOWED
        for path, _ in places
    )


def test_every_public_service_name_is_used_by_framelab_itself():
    assert unused_service_names() == [], (
        "public service API only tests use: delete it and test the production path, "
        "or make production use it (or allow-list it with a true reason)"
    )


def test_the_allow_list_names_only_what_exists_and_is_otherwise_unused():
    definitions = _public_definitions()
    assert set(ALLOWED) <= set(definitions)
    assert not set(ALLOWED) & _used_in_framelab(set(ALLOWED), definitions)
    assert all(reason.strip() for reason in ALLOWED.values())


def test_a_function_only_a_test_calls_is_found(tmp_path, monkeypatch):
    module = SERVICES / "test_only_probe_h9.py"
    assert not module.exists()
    monkeypatch.setattr(f"{__name__}.SERVICES", tmp_path / "framelab" / "services")
    monkeypatch.setattr(f"{__name__}.FRAMELAB", tmp_path / "framelab")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    services = tmp_path / "framelab" / "services"
    services.mkdir(parents=True)
    (services / "probe.py").write_text(
        "def used():\n    return helper_only_tests_call()\n\n\n"
        "def helper_only_tests_call():\n    return helper_only_tests_call\n\n\n"
        "class _Private:\n    pass\n",
        encoding="utf-8",
    )
    (tmp_path / "framelab" / "web.py").write_text(
        "from framelab.services.probe import used\n\nused()\n", encoding="utf-8"
    )
    assert unused_service_names() == []  # `used` is called by web; the helper by `used`
    (services / "probe.py").write_text(
        "def used():\n    return 1\n\n\ndef helper_only_tests_call():\n"
        '    """helper_only_tests_call"""\n    return helper_only_tests_call()\n',
        encoding="utf-8",
    )
    assert unused_service_names() == ["framelab/services/probe.py:helper_only_tests_call"]
