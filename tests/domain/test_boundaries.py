"""framelab.domain stays pure: no Flask, no SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.domain.factories import ROOT

MODULES = ["study", "values", "assignment", "items", "checks", "design_checks", "parsing"]


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
