"""The one doctest runner for `analysis/`, and the docstring standard it keeps (issue 18).

Every public module (no leading underscore) carries examples that run; every public
function (the module's `__all__`, else its names without a leading underscore) has numpydoc
sections in pingouin's manner: Parameters (when it takes any), Returns, Notes, References
and Examples. Report modules render rather than estimate, so References are not asked of
them. Examples run here with NORMALIZE_WHITESPACE and ELLIPSIS, so any change to a
function's behaviour that its example shows fails this file.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re

import pytest

import analysis

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(analysis.__path__, prefix="analysis.")
    if not info.name.rsplit(".", 1)[-1].startswith("_")
)
PUBLIC_MODULES = [name for name in MODULES if name != "analysis.__main__"]
SECTIONS = ("Parameters", "Returns", "Notes", "References", "Examples")
FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _sections(doc: str) -> set[str]:
    return set(re.findall(r"^\s*([A-Z][a-z]+)\n\s*-{3,}\s*$", doc, flags=re.MULTILINE))


def _public_functions(module) -> list[tuple[str, object]]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    found = []
    for name in names:
        obj = getattr(module, name)
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            found.append((name, obj))
    return found


def _wanted(module_name: str, function) -> tuple[str, ...]:
    wanted = [s for s in SECTIONS if not (s == "References" and ".report" in module_name)]
    takes = [p for p in inspect.signature(function).parameters.values() if p.kind != p.VAR_KEYWORD]
    if not takes:
        wanted.remove("Parameters")
    return tuple(wanted)


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} example(s) failed"
    if name in PUBLIC_MODULES:
        assert result.attempted > 0, f"{name} has no examples"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_module_docstring_shows_an_example(name):
    module = importlib.import_module(name)
    assert ">>>" in (module.__doc__ or ""), f"{name}'s module docstring has no example"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_functions_have_numpydoc_sections(name):
    module = importlib.import_module(name)
    missing = {}
    for fname, function in _public_functions(module):
        have = _sections(inspect.getdoc(function) or "")
        lacking = [s for s in _wanted(name, function) if s not in have]
        if lacking:
            missing[fname] = lacking
    assert not missing, f"{name}: sections missing: {missing}"
