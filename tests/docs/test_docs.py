"""The documentation tells the truth: README.md and docs/ checked against the code.

- Every shell code block is either run here (a fresh instance in a temporary folder)
  or marked illustrative, with the marker on the line above its fence:
  ``<!-- docs-test: runs -->`` or ``<!-- docs-test: illustrative (why) -->``.
- Every `framelab COMMAND --flag` and `python -m analysis run|report --flag` written
  anywhere in the docs (code blocks and inline code) names a real command and flag.
- Every study-file key in docs/study-format.md's YAML exists in the Study model, and
  every key of the model is documented there.
- The export columns that docs/study-format.md lists are the code's lists, and every
  FRAMELAB_* variable the code reads is in docs/environment.md (and only those).

The self-tests at the end rename a documented flag and a documented key, and check that
the checks then fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import yaml
from pydantic import BaseModel, RootModel

from analysis.__main__ import _parser as analysis_parser
from framelab.cli import main as framelab_cli
from framelab.domain.study import Study, load_study_file
from framelab.services.codebook import codebook
from framelab.services.export_files import LONG_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell", "console"}
COMMAND_START = re.compile(
    r"^\s*(?:\$ )?(?:\.venv/bin/)?(framelab|python|make|pip|export|gunicorn)\b"
)
MARKER = re.compile(r"^<!-- docs-test: (runs|illustrative)\b.*-->$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    lang: str
    text: str
    marker: str | None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def is_shell(self) -> bool:
        if self.lang in SHELL:
            return True
        lines = [x for x in self.text.splitlines() if x.strip() and not x.startswith("#")]
        return not self.lang and bool(lines) and bool(COMMAND_START.match(lines[0]))


def code_blocks(path: Path, text: str | None = None) -> list[Block]:
    """The fenced code blocks of a Markdown file, with the marker line above each."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = re.match(r"^(```+|~~~+)\s*([\w-]*)", lines[i])
        if not fence:
            i += 1
            continue
        start, lang = i, fence.group(2).lower()
        i += 1
        body = []
        while i < len(lines) and not lines[i].startswith(fence.group(1)):
            body.append(lines[i])
            i += 1
        before = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.match(before)
        blocks.append(Block(path, start + 1, lang, "\n".join(body), marker and marker.group(1)))
        i += 1
    return blocks


def inline_code(text: str) -> list[str]:
    """Inline code spans outside fenced blocks."""
    outside = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.findall(r"`([^`\n]+)`", outside)


# ---------------------------------------------------------------- commands and flags


def _click_options(command: click.Command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        if isinstance(param, click.Option):
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def _analysis_options() -> dict[str, set[str]]:
    parser = analysis_parser()
    sub = next(a for a in parser._actions if isinstance(a, type(parser._subparsers._actions[1])))
    return {
        name: {opt for action in p._actions for opt in action.option_strings}
        for name, p in sub.choices.items()
    }


def _invocations(snippet: str) -> list[tuple[str, list[str]]]:
    """(program command, its words) for every framelab / python -m analysis call in a text."""
    found = []
    for line in snippet.replace("\\\n", " ").splitlines():
        for part in re.split(r"&&|\|\||;|\||\$\(|`", line):
            part = part.split(" #")[0]
            match = re.search(r"(?:^|\s|/)framelab\s+([a-z][a-z-]*)(.*)$", part)
            if match and "framelab:" not in part and "framelab.local" not in part:
                found.append((f"framelab {match.group(1)}", match.group(2).split()))
                continue
            match = re.search(r"python -m analysis\s+([a-z]+)(.*)$", part)
            if match:
                found.append((f"analysis {match.group(1)}", match.group(2).split()))
    return found


def flag_problems(text: str, where: str) -> list[str]:
    """Unknown commands and flags in one document's text."""
    snippets = [b.text for b in code_blocks(Path(where), text)] + inline_code(text)
    analysis_options = _analysis_options()
    problems = []
    for snippet in snippets:
        for program, words in _invocations(snippet):
            flags = [w.split("=")[0] for w in words if w.startswith("--")]
            kind, name = program.split(" ", 1)
            if kind == "framelab":
                command = framelab_cli.commands.get(name)
                if command is None:
                    if name in ("init", "is", "runs", "reads", "holds", "and", "or"):
                        continue  # prose after the word framelab, not a command
                    problems.append(f"{where}: `framelab {name}` is not a command")
                    continue
                known = _click_options(command)
            else:
                if name not in analysis_options:
                    problems.append(f"{where}: `python -m analysis {name}` is not a command")
                    continue
                known = analysis_options[name]
            problems += [
                f"{where}: `{program}` has no option {flag}" for flag in flags if flag not in known
            ]
    return problems


# ---------------------------------------------------------------- study-file keys


def _model_of(annotation: typing.Any) -> type[BaseModel] | None:
    """The model a field's value is (or holds in a list), None for plain values."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [m for m in map(_model_of, typing.get_args(annotation)) if m is not None]
        return models[0] if models else None
    if origin is list:
        return _model_of(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None if issubclass(annotation, RootModel) else annotation
    return None


def _fields(model: type[BaseModel]) -> dict[str, typing.Any]:
    return {(f.alias or name): f.annotation for name, f in model.model_fields.items()}


def model_keys(model: type[BaseModel] = Study, prefix: str = "") -> set[str]:
    """Every key path of the study file: `design.block_size`, `arms.frame.title`, ..."""
    keys = set()
    for name, annotation in _fields(model).items():
        keys.add(prefix + name)
        inner = _model_of(annotation)
        if inner is not None:
            keys |= model_keys(inner, f"{prefix}{name}.")
    return keys


def documented_key_problems(data: typing.Any, model: type[BaseModel], where: str) -> list[str]:
    """Keys in a YAML example that the model does not have (recursively)."""
    if isinstance(data, list):
        return [p for item in data for p in documented_key_problems(item, model, where)]
    if not isinstance(data, dict):
        return []
    fields = _fields(model)
    problems = []
    for key, value in data.items():
        if key == "...":  # an ellipsis in the example: "and so on"
            continue
        if key not in fields:
            problems.append(f"{where}: study-file key {key!r} is not a field of {model.__name__}")
            continue
        inner = _model_of(fields[key])
        if inner is not None:
            problems += documented_key_problems(value, inner, f"{where}.{key}")
    return problems


def study_key_problems(text: str) -> list[str]:
    problems = []
    for block in code_blocks(ROOT / "docs" / "study-format.md", text):
        if block.lang != "yaml":
            continue
        data = yaml.safe_load(block.text)
        if isinstance(data, dict):
            problems += documented_key_problems(data, Study, f"study-format.md:{block.line}")
    return problems


# ---------------------------------------------------------------- the tests


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_shell_block_runs_in_the_suite_or_is_marked_illustrative(path):
    unmarked = [b.where for b in code_blocks(path) if b.is_shell and b.marker is None]
    assert not unmarked, (
        "shell code blocks need <!-- docs-test: runs --> or <!-- docs-test: illustrative (why) --> "
        f"on the line above: {unmarked}"
    )


RUNNABLE = [b for path in DOCS for b in code_blocks(path) if b.marker == "runs"]


def test_some_blocks_run():
    assert {b.path.name for b in RUNNABLE} >= {"rehearse.md", "analysis.md"}


@pytest.mark.parametrize("block", RUNNABLE, ids=lambda b: b.where)
def test_runnable_blocks_run_on_a_fresh_instance(block, tmp_path):
    for name in ("examples", "notebooks"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("FRAMELAB_") and k != "DATABASE_URL"
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["FRAMELAB_INSTANCE_PATH"] = str(tmp_path / "instance")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.text],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{block.where} failed:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_documented_command_and_flag_exists(path):
    problems = flag_problems(path.read_text(encoding="utf-8"), str(path))
    assert not problems, "\n".join(problems)


def test_every_documented_study_key_exists_and_every_key_is_documented():
    text = (ROOT / "docs" / "study-format.md").read_text(encoding="utf-8")
    assert not study_key_problems(text)
    documented = set(re.findall(r"\b([a-z_]+)\s*:", text)) | set(re.findall(r"`([a-z_]+)`", text))
    missing = sorted(k for k in model_keys() if k.split(".")[-1] not in documented)
    assert not missing, f"study-file keys missing from docs/study-format.md: {missing}"


def _tidy_paragraph(text: str) -> str:
    start = text.index("returns a DataFrame with:")
    return text[start : text.index("then `pre_<item>`", start)]


def test_documented_export_columns_are_the_codes_lists():
    text = (ROOT / "docs" / "study-format.md").read_text(encoding="utf-8")
    for file in ("torture-ban.yaml", "refugee-welcome-factorial.yaml"):
        spec = load_study_file(ROOT / "examples" / file)
        columns = [c["name"] for c in codebook(spec)["columns"] if c["source"] == "participant"]
        documented = re.findall(r"`([a-z_]+)`", _tidy_paragraph(text))
        documented = [name for name in documented if name not in ("started", "screened_out")]
        statuses = {"assigned", "completed", "withdrawn"}
        assert [name for name in documented if name not in statuses] == columns
    assert "`factor_<name>`" in text  # the design columns of factorial studies
    long_line = re.search(
        r"`export_long\(session, slug\)`: one row per stored answer with `([^`]+)`", text
    )
    assert long_line, "docs/study-format.md: the long export's columns"
    names = [re.sub(r"\s*\(.*\)", "", c).strip() for c in long_line.group(1).split(",")]
    assert names == list(LONG_COLUMNS)


def _environment_names_in_code() -> set[str]:
    names = set()
    for folder in ("framelab", "analysis", "benchmarks"):
        for file in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"FRAMELAB_[A-Z_]+[A-Z]", file.read_text(encoding="utf-8")))
    names |= set(re.findall(r"FRAMELAB_[A-Z_]+[A-Z]", (ROOT / "tests" / "conftest.py").read_text()))
    for file in (ROOT / "tests").rglob("*.py"):
        if "docs" not in file.parts:
            source = file.read_text(encoding="utf-8")
            names |= set(re.findall(r"environ(?:\.get)?\(\s*\"(FRAMELAB_[A-Z_]+)\"", source))
    return names


def test_the_environment_reference_lists_every_variable_the_code_reads():
    text = (ROOT / "docs" / "environment.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(FRAMELAB_[A-Z_]+)`", text))
    in_code = _environment_names_in_code()
    assert not in_code - documented, f"undocumented: {sorted(in_code - documented)}"
    assert not documented - in_code, f"documented but never read: {sorted(documented - in_code)}"


# ---------------------------------------------------------------- the checks can fail


def test_a_renamed_flag_or_command_in_the_docs_fails_the_check():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    report = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    assert not flag_problems(report, "docs/report.md")
    renamed = report.replace("--rehearsal", "--rehearse")
    assert "docs/report.md: `framelab report` has no option --rehearse" in flag_problems(
        renamed, "docs/report.md"
    )
    renamed = readme.replace("--plan PLAN.yaml --out results.json", "--plan PLAN.yaml --output x")
    assert "README.md: `analysis run` has no option --output" in flag_problems(renamed, "README.md")
    renamed = report.replace("framelab report", "framelab make-report")
    assert "docs/report.md: `framelab make-report` is not a command" in flag_problems(
        renamed, "docs/report.md"
    )


def test_a_renamed_study_key_in_the_docs_fails_the_check():
    text = (ROOT / "docs" / "study-format.md").read_text(encoding="utf-8")
    renamed = text.replace("  block_size: 10", "  blocksize: 10")
    problems = study_key_problems(renamed)
    assert any("'blocksize' is not a field of Design" in p for p in problems), problems


def test_an_unmarked_shell_block_fails_the_check():
    text = "Intro\n\n```sh\nframelab init-db\n```\n"
    blocks = code_blocks(ROOT / "README.md", text)
    assert [b.is_shell and b.marker is None for b in blocks] == [True]
    marked = "Intro\n\n<!-- docs-test: illustrative (why) -->\n```sh\nframelab init-db\n```\n"
    assert [b.marker for b in code_blocks(ROOT / "README.md", marked)] == ["illustrative"]


def test_a_flag_the_code_renames_fails_the_check(monkeypatch):
    report = framelab_cli.commands["report"]
    option = next(p for p in report.params if "--rehearsal" in p.opts)
    monkeypatch.setattr(option, "opts", ["--simulated"])
    text = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    assert "docs/report.md: `framelab report` has no option --rehearsal" in flag_problems(
        text, "docs/report.md"
    )
