"""The report's message ids, read from its source, and a catalog updater for translators.

`source_messages()` finds every template the report passes through its translator:
``t("…")``, ``ctx.t("…")``, ``self.t("…")``, ``t.n("…", "…", n)`` and
``t.quantity("…", "…", value, digits)`` (plural messages, keyed by their singular), both branches of ``t("a" if x else "b")``, the translator's
own ``self("…")`` calls, and ``t("…")`` in the Jinja template.

    python -m tests.report.report_messages            # list the message ids
    python -m tests.report.report_messages --check    # which catalogs miss or keep extra ids
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "analysis" / "report"
LOCALES = REPORT / "locales"


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def _is_translator(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id in ("t", "self")) or (
        isinstance(node, ast.Attribute) and node.attr == "t"
    )


def source_messages(modules: Sequence[str] | None = None) -> dict[str, str]:
    """msgid -> 'plain' or 'plural' for every message of the report's source and template.

    ``modules`` (file names such as ``"interim.py"``) limits the search to those source
    files of ``analysis/report`` and leaves out the Jinja template.
    """
    found: dict[str, str] = {}
    paths = sorted(REPORT.glob("*.py")) if modules is None else [REPORT / m for m in modules]
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            plural = isinstance(func, ast.Attribute) and func.attr in ("n", "quantity")
            if plural and _is_translator(func.value):
                for msgid in _strings(node.args[0]):
                    found[msgid] = "plural"
            elif _is_translator(func) and not (
                isinstance(func, ast.Name) and func.id == "self" and path.name != "i18n.py"
            ):
                for msgid in _strings(node.args[0]):
                    found.setdefault(msgid, "plain")
    if modules is not None:
        return found
    template = (REPORT / "templates" / "report.html.j2").read_text(encoding="utf-8")
    for match in re.finditer(r"""\bt\((?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""", template):
        msgid = match.group(1) if match.group(1) is not None else match.group(2)
        found.setdefault(msgid.replace("\\'", "'").replace('\\"', '"'), "plain")
    return found


def catalog_problems(lang: str) -> tuple[list[str], list[str]]:
    """(missing, extra) message ids of one language's catalog."""
    messages = source_messages()
    catalog = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return sorted(set(messages) - set(catalog)), sorted(set(catalog) - set(messages))


def main(argv: list[str]) -> int:
    if "--check" in argv:
        bad = 0
        for path in sorted(LOCALES.glob("*.json")):
            missing, extra = catalog_problems(path.stem)
            for msgid in missing:
                print(f"{path.stem}: missing {msgid!r}")
            for msgid in extra:
                print(f"{path.stem}: extra {msgid!r}")
            bad += len(missing) + len(extra)
        return 1 if bad else 0
    for msgid, kind in sorted(source_messages().items()):
        print(json.dumps({"msgid": msgid, "kind": kind}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
