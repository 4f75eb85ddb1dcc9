"""framelab.domain stays pure (no Flask, no SQLAlchemy) and its import graph has no circle.

A circle (study -> checks -> study, once dodged with an import inside a function) makes
the import order matter: every module must import on its own in a fresh interpreter,
and no module may reach itself again through the imports that run (at the top of the
module or inside a function; imports under ``if TYPE_CHECKING:`` are annotations only).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from tests.factories import ROOT

PACKAGE = ROOT / "framelab" / "domain"
MODULES = sorted(
    ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    for path in PACKAGE.rglob("*.py")
    if path.name != "__init__.py"
)


def test_importing_the_domain_pulls_in_neither_flask_nor_sqlalchemy():
    code = (
        "import importlib, json, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module('framelab.domain.' + name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('flask', 'sqlalchemy', 'werkzeug', 'jinja2'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert json.loads(result.stdout) == []


def test_every_domain_module_imports_on_its_own_in_a_fresh_interpreter():
    failed = {}
    for name in MODULES:
        result = subprocess.run(
            [sys.executable, "-c", f"import framelab.domain.{name}"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        if result.returncode != 0:
            failed[name] = result.stderr.strip().splitlines()[-1]
    assert failed == {}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST, *, annotations: bool = False) -> set[str]:
    """framelab.domain modules imported where the code runs (also those imported under
    TYPE_CHECKING for annotations only, with `annotations`)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if not annotations and isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "framelab.domain" or node.module.startswith("framelab.domain."):
                base = node.module.removeprefix("framelab.domain").lstrip(".")
                found.add(base)  # `from framelab.domain.x import name`
                # `from framelab.domain.builder import editing`: a module of a package
                found.update(f"{base}.{alias.name}".lstrip(".") for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("framelab.domain."):
                    found.add(alias.name.removeprefix("framelab.domain."))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found & set(MODULES)


def _domain_graph(*, annotations: bool = False) -> dict[str, set[str]]:
    return {
        name: _runtime_imports(
            ast.parse((PACKAGE / f"{name.replace('.', '/')}.py").read_text(encoding="utf-8")),
            annotations=annotations,
        )
        for name in MODULES
    }


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports as a path (first module repeated at the end), or []."""
    state: dict[str, str] = {}
    path: list[str] = []

    def walk(node: str) -> list[str]:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := walk(target)):
                return found
        state[node] = "done"
        path.pop()
        return []

    for start in sorted(graph):
        if start not in state and (found := walk(start)):
            return found
    return []


def test_the_domain_import_graph_has_no_circle():
    graph = _domain_graph()
    assert "checks" in graph["study"]  # the graph is read: a Study runs the cross-field checks
    assert "builder.editing" in graph["builder.build_frames"]  # subpackages too
    assert _cycle(graph) == []


def test_the_checks_a_study_runs_never_import_the_study_module_not_even_for_types():
    graph = _domain_graph(annotations=True)
    assert "study_fields" in graph["checks"]  # they are typed against StudyFields
    for name in ("checks", "design_checks"):
        assert "study" not in graph[name], name
    study_side = {"study", "study_fields", "study_sections"}
    assert (
        _cycle({name: graph[name] & {"checks", *study_side} for name in ("checks", *study_side)})
        == []
    )


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, ["a", "b", "a"]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"a"}}, ["a", "a"]),
    ],
)
def test_the_circle_finder_finds_circles(graph, expected):
    assert _cycle(graph) == expected
