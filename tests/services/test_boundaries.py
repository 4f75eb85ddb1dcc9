"""framelab.services never imports Flask, nor the layers above it (web, commands).

Services take a Session and own their transactions; the web layer calls them. Importing
every services module in a fresh interpreter must leave Flask (and its werkzeug, jinja2)
out of `sys.modules`, and no services module may name framelab.web or framelab.commands
in an import, even one inside a function.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.services.test_hot_path_fence import _imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "framelab" / "services"
WEB_PACKAGES = ("flask", "flask_login", "flask_wtf", "flask_babel", "werkzeug", "jinja2")
UPPER_LAYERS = ("framelab.web", "framelab.commands", "framelab.cli")


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_services_module_is_found():
    modules = _modules()
    assert "framelab.services" in modules
    assert "framelab.services.accounts" in modules
    assert "framelab.services.study_versions" in modules


def test_importing_every_services_module_pulls_in_no_flask():
    code = (
        "import importlib, json, sys\n"
        f"for name in {_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in"
        f" {WEB_PACKAGES!r})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_no_services_module_imports_flask_or_an_upper_layer():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        names = _imports(path)
        bad = sorted(
            name
            for name in names
            if name.split(".")[0] in WEB_PACKAGES
            or any(name == layer or name.startswith(layer + ".") for layer in UPPER_LAYERS)
        )
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_the_import_scan_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("def f():\n    from flask import g\n    import framelab.web.i18n\n")
    assert {"flask", "framelab.web.i18n"} <= _imports(module)
