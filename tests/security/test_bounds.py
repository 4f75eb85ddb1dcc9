"""Bounded input (issue 16, findings 1 and 4, and the non-finite numbers of finding 5).

Each test is an attack that used to take a worker for tens of seconds and gigabytes
(an 80 KB alias fan: 27 s and 2.5 GB; a 50 MB upload: 26 s and 2.8 GB), raise a
RecursionError, or save a study whose every participant then got a 500. Each is now
refused before anything is built, with a message that names its place; the refused
bombs and the oversized upload are timed and their memory traced, and the figures are
in the assertion messages.
"""

from __future__ import annotations

import gc
import io
import json
import math
import re
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest
import yaml
from click.testing import CliRunner

from framelab.cli import main as cli
from framelab.config import DEFAULT_MAX_CONTENT_LENGTH, load_config
from framelab.domain.design_checks import MAX_BLOCK_SIZE, MAX_WEIGHT
from framelab.domain.items import OPTION_VALUE_MAX, OPTION_VALUE_MIN
from framelab.domain.parsing import (
    MAX_ALIASES,
    MAX_NODES,
    MAX_TEXT_CHARS,
    _Yaml12Loader,
    parse_study_text,
)
from framelab.domain.study import StudyError, load_study, study_from_data
from framelab.domain.study_sections import MAX_TARGET_N, SEED_MAX, SEED_MIN
from framelab.services.study_versions import get_study
from tests.factories import EXAMPLE, ROOT, publish, session_for, study_data
from tests.participants import enrol
from tests.studio.conftest import SLUG

MAX_SECONDS = 1.0
MAX_BYTES = 100 * 1024 * 1024
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def measured(action: Callable[[], T]) -> tuple[T, dict[str, float]]:
    """Run `action` twice: timed on its own, then traced for its peak memory (tracemalloc
    slows Python several times over, so time and memory are measured apart)."""
    gc.collect()
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    gc.collect()
    tracemalloc.start()
    try:
        action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, {"seconds": seconds, "peak_bytes": peak}


def refusal(text: str) -> StudyError:
    """The StudyError that loading `text` raises (the test fails when it loads)."""
    try:
        load_study(text)
    except StudyError as exc:
        return exc
    raise AssertionError("the text loaded")


def described(figures: dict[str, float]) -> str:
    return (
        f"measured {figures['seconds'] * 1000:.1f} ms and a peak of "
        f"{figures['peak_bytes'] / 1_048_576:.2f} MB (bounds: {MAX_SECONDS:.0f} s, "
        f"{MAX_BYTES // 1_048_576} MB)"
    )


def assert_bounded(figures: dict[str, float]) -> None:
    message = described(figures)
    assert figures["seconds"] <= MAX_SECONDS, message
    assert figures["peak_bytes"] <= MAX_BYTES, message
    print(message)  # in the log of a passing run too (pytest -s)


# ---------------------------------------------------------------- hostile texts


def billion_laughs() -> str:
    """Nine levels of nine aliases: 9**9 strings once expanded, in 600 bytes."""
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        refs = ", ".join([f"*lol{level - 1}"] * 9)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return "\n".join(lines) + "\n"


def alias_fan(options: int = 2_000, references: int = 2_000) -> str:
    """The issue's 80 KB study: one item's 2,000 options referenced by 2,000 items."""
    listed = ", ".join(f"{{value: {i}, label: o{i}}}" for i in range(options))
    items = [f"  - {{id: fan0, type: choice, phase: [pre], text: q, options: &opts [{listed}]}}"]
    items += [
        f"  - {{id: fan{i}, type: choice, phase: [pre], text: q, options: *opts}}"
        for i in range(1, references)
    ]
    return EXAMPLE_TEXT.replace("\nitems:\n", "\nitems:\n" + "\n".join(items) + "\n", 1)


def many_aliases() -> str:
    """More aliases than allowed, each of a single short text (cheap, but unbounded)."""
    refs = "\n".join("  - *word" for _ in range(MAX_ALIASES + 1))
    return f"word: &word hello\nwords:\n{refs}\n"


def deep_json(depth: int = 100_000) -> str:
    return '{"slug": ' + "[" * depth + "]" * depth + "}"


def deep_flow_yaml(depth: int = 100_000) -> str:
    return "slug: " + "[" * depth + "]" * depth + "\n"


def deep_block_yaml(depth: int = 500) -> str:
    return "slug:\n" + "".join("  " * (i + 1) + "- \n" for i in range(depth))


def deep_alias_yaml() -> str:
    """Shallow as written, deep once expanded: an anchor nested 20 levels, used 20 levels in."""
    inner = "[" * 20 + "x" + "]" * 20
    return f"a: &deep {inner}\nb: {'[' * 20}*deep{']' * 20}\n"


BOMBS = {
    "billion laughs": billion_laughs,
    "alias fan (2,000 x 2,000)": alias_fan,
    "more aliases than allowed": many_aliases,
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_alias_bombs_are_refused_on_the_event_stream_in_milliseconds(name):
    text = BOMBS[name]()
    refused, figures = measured(lambda: refusal(text))
    (location, message), *_ = refused.errors
    assert location == ""
    assert re.match(r"YAML refused at line \d+, column \d+: ", message), message
    assert "aliases are expanded" in message or f"more than {MAX_ALIASES} aliases" in message
    assert_bounded(figures)


def test_the_alias_fan_is_refused_where_the_budget_runs_out():
    text = alias_fan()
    assert len(text.encode()) < 250_000  # the fan and the example study around it
    with pytest.raises(StudyError) as refused:
        load_study(text)
    message = refused.value.errors[0][1]
    line = int(re.search(r"line (\d+)", message).group(1))
    # The line of the first reference that passes the budget, a few items after the anchor.
    assert text.splitlines()[line - 1].lstrip().startswith("- {id: fan"), message
    assert f"more than {MAX_NODES:,} values" in message


@pytest.mark.parametrize(
    "text",
    [deep_json(), deep_flow_yaml(), deep_block_yaml(), deep_alias_yaml()],
    ids=["json", "flow-yaml", "block-yaml", "yaml-deep-once-expanded"],
)
def test_deep_nesting_is_a_placed_error_never_a_recursion_error(text):
    refused, figures = measured(lambda: refusal(text))
    message = refused.errors[0][1]
    assert re.search(r"line \d+, column \d+: ", message), message
    assert "nest" in message  # ours (32 levels) or libyaml's own (1,000)
    assert_bounded(figures)


@pytest.mark.parametrize(
    "text", ['{"slug": ' + "9" * 5000 + "}", "slug: " + "9" * 5000 + "\n"], ids=["json", "yaml"]
)
def test_a_number_too_long_for_int_is_a_placed_error(text):
    # int() refuses 4,300 digits with a ValueError that was not a StudyError: a 500.
    with pytest.raises(StudyError, match=r"line 1, column \d+: a number of 5,000 characters"):
        load_study(text)


def test_an_alias_inside_its_own_anchor_and_an_unknown_alias_are_refused():
    with pytest.raises(StudyError, match=r"line 1, column 8: the alias \*a is inside the node"):
        load_study("a: &a [*a]\n")
    with pytest.raises(StudyError, match=r"line 2, column 4: the alias \*b names no anchor"):
        load_study("a: 1\nc: *b\n")


def test_a_text_longer_than_the_limit_is_refused_before_parsing():
    refused, figures = measured(lambda: refusal("slug: " + "x" * MAX_TEXT_CHARS))
    assert f"at most {MAX_TEXT_CHARS:,} are read" in str(refused)
    assert_bounded(figures)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (EXAMPLE_TEXT.replace("slug: torture-ban", 'slug: "torture\\0ban"', 1), "slug"),
        (json.dumps(study_data(title={"en": "A\x00B"})), "title.en"),
        (json.dumps(study_data(title="ok")).replace('"ok"', '"\\ud800"'), "title"),
    ],
    ids=["yaml-nul", "json-nul", "json-lone-surrogate"],
)
def test_texts_no_database_can_store_are_refused_with_their_place(text, place):
    with pytest.raises(StudyError) as refused:
        load_study(text)
    assert any(
        loc == place and "which cannot be stored; remove it" in msg
        for loc, msg in refused.value.errors
    ), refused.value.errors


def test_every_shipped_study_stays_within_the_limits_and_reads_as_before():
    # The example study uses 1,029 values and 6 levels; the templates use aliases.
    shipped = [
        *sorted((ROOT / "examples").glob("*.yaml")),
        *sorted((ROOT / "framelab" / "study_templates").glob("*.yaml")),
    ]
    for path in shipped:
        text = path.read_text(encoding="utf-8")
        # The bounded reading returns exactly what the plain loader builds.
        assert parse_study_text(text) == yaml.load(text, Loader=_Yaml12Loader), path
        study = load_study(text)
        assert study_from_data(json.loads(study.canonical_json())).content_hash() == (
            study.content_hash()
        )


# ---------------------------------------------------------------- the studio and the CLI


def test_the_studio_upload_refuses_the_alias_fan_quickly(client_for, studio_app):
    creator = client_for("admin@example.org")
    creator.get("/studio/new")  # templates compiled: the figures are the refusal's own
    text = alias_fan()
    response, figures = measured(
        lambda: creator.post(
            "/studio/new", data={"up-text": text, "up-submit_upload": "Create from file"}
        )
    )
    assert response.status_code == 422, response.status_code
    page = response.get_data(as_text=True)
    assert "YAML refused at line" in page and "aliases are expanded" in page
    assert_bounded(figures)
    bomb = billion_laughs().encode()
    response, figures = measured(
        lambda: creator.post(
            "/studio/new",
            data={"up-file": (io.BytesIO(bomb), "study.yaml"), "up-submit_upload": "Create"},
        )
    )
    assert response.status_code == 422 and "YAML refused at line" in response.get_data(True)
    assert_bounded(figures)


@pytest.mark.parametrize(
    "text", [alias_fan(), deep_json(), deep_block_yaml()], ids=["fan", "deep-json", "deep-yaml"]
)
def test_the_yaml_editor_refuses_bombs_and_deep_nesting_and_keeps_the_study(
    client_for, studio_app, text
):
    from framelab.web.database import EXTENSION_KEY

    editor = client_for("editor@example.org")
    editor.get(f"/studio/{SLUG}/yaml")  # templates compiled: the figures are the refusal's own
    with studio_app.extensions[EXTENSION_KEY]() as session:
        before = get_study(session, SLUG).spec.content_hash()
    response, figures = measured(
        lambda: editor.post(f"/studio/{SLUG}/yaml", data={"yaml": text, "submit": "Save"})
    )
    assert response.status_code == 422
    assert re.search(r"(YAML|JSON) refused at line \d+, column \d+", response.get_data(True))
    assert_bounded(figures)
    with studio_app.extensions[EXTENSION_KEY]() as session:
        assert get_study(session, SLUG).spec.content_hash() == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (deep_json(), "JSON refused at line 1, column 41: nested more than 32 levels deep"),
        (billion_laughs(), "YAML refused at line 5, column"),
        ('{"slug": ' + "9" * 5000 + "}", "a number of 5,000 characters"),
    ],
    ids=["deep-json", "billion-laughs", "huge-number"],
)
def test_cli_load_study_prints_where_the_text_was_refused_without_a_traceback(
    tmp_path, text, expected
):
    path = tmp_path / "hostile.json"
    path.write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    result = CliRunner().invoke(cli, ["load-study", str(path), "--database-url", url])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert expected in result.output
    assert "the study was not loaded" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- request size


def _multipart(content: bytes) -> tuple[bytes, str]:
    """A study-file upload to /studio/new, encoded here: for bodies over 500 kB the test
    client's own encoder spools to a temporary file that it never closes."""
    boundary = "framelab-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="up-file"; '
        f'filename="study.yaml"\r\nContent-Type: application/yaml\r\n\r\n'
    ).encode()
    tail = (
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="up-submit_upload"\r\n\r\n'
        f"Create from file\r\n--{boundary}--\r\n"
    ).encode()
    return head + content + tail, f"multipart/form-data; boundary={boundary}"


def _post_body(client, path: str, body: bytes, content_type: str):
    return client.post(
        path, input_stream=io.BytesIO(body), content_type=content_type, content_length=len(body)
    )


def test_a_50_mb_upload_is_refused_with_a_staff_page_before_it_is_read(client_for, studio_app):
    viewer = client_for("viewer@example.org")  # refused before any role check reads the body
    viewer.get("/studio/")
    body, content_type = _multipart(b"slug: x\n" + b"#" * (50 * 1024 * 1024))
    response, figures = measured(lambda: _post_body(viewer, "/studio/new", body, content_type))
    assert response.status_code == 413, response.status_code
    page = response.get_data(as_text=True)
    assert "The request is too large" in page
    assert "/studio/new accepts at most 4.0 MB per request; this one had 50.0 MB." in page
    assert "Nothing was saved" in page and "FRAMELAB_MAX_CONTENT_LENGTH" in page
    assert_bounded(figures)


def test_form_text_stops_at_1_mib_and_a_file_under_the_limit_reaches_the_parser(
    client_for, studio_app
):
    creator = client_for("admin@example.org")
    pasted = creator.post(
        "/studio/new", data={"up-text": "x" * (1024 * 1024 + 1), "up-submit_upload": "1"}
    )
    assert pasted.status_code == 413
    assert "/studio/new accepts at most 1.0 MB per request" in pasted.get_data(as_text=True)
    # Under the request limit but over the parser's: refused by the parser, with its reason.
    under = _post_body(creator, "/studio/new", *_multipart(b"slug: " + b"x" * 3_000_000))
    assert under.status_code == 422
    assert f"at most {MAX_TEXT_CHARS:,} are read" in under.get_data(as_text=True)


def test_a_percent_encoded_body_is_refused_before_it_is_decoded(client):
    # 3.9 MB of "%5B", under the 4 MiB limit, took 3 s and 300 MB to decode, anonymously.
    form = "application/x-www-form-urlencoded"
    body = b"consent=" + b"%5B" * 1_300_000
    response, figures = measured(lambda: _post_body(client, "/s/torture-ban", body, form))
    assert response.status_code == 413
    assert "Your earlier answers are saved." in response.get_data(as_text=True)
    assert_bounded(figures)
    # Just under the 1 MiB form-text limit, decoding is the worst it can be: still bounded.
    body = b"consent=" + b"%5B" * ((1024 * 1024 - 8) // 3)
    response, figures = measured(lambda: _post_body(client, "/s/torture-ban", body, form))
    assert response.status_code == 400  # decoded, then refused: no CSRF token
    assert_bounded(figures)


def test_an_oversized_participant_post_gets_the_participant_page(client):
    body = b"x" * (50 * 1024 * 1024)
    form = "application/x-www-form-urlencoded"
    response, figures = measured(lambda: _post_body(client, "/s/torture-ban", body, form))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Something was wrong with that request" in page
    assert "Your earlier answers are saved." in page
    assert_bounded(figures)


def test_the_request_limit_is_a_setting(monkeypatch):
    default = load_config({})
    assert default.MAX_CONTENT_LENGTH == DEFAULT_MAX_CONTENT_LENGTH == 4 * 1024 * 1024
    assert default.MAX_FORM_MEMORY_SIZE == 1024 * 1024
    settings = load_config({"FRAMELAB_MAX_CONTENT_LENGTH": "1_048_576"})
    assert settings.MAX_CONTENT_LENGTH == settings.MAX_FORM_MEMORY_SIZE == 1_048_576
    with pytest.raises(ValueError, match="FRAMELAB_MAX_CONTENT_LENGTH: expected a number"):
        load_config({"FRAMELAB_MAX_CONTENT_LENGTH": "lots"})
    with pytest.raises(ValueError, match="expected at least 65536 bytes"):
        load_config({"FRAMELAB_MAX_CONTENT_LENGTH": "1000"})


# ---------------------------------------------------------------- numbers in the spec


def test_a_seed_beyond_what_the_assignment_log_stores_is_refused_before_it_can_go_live(
    client_for, studio_app
):
    with pytest.raises(StudyError) as refused:
        study_from_data(study_data(design__seed=2**70))
    assert refused.value.errors == [
        (
            "design.seed",
            f"expected a whole number from {SEED_MIN} to {SEED_MAX} (what the assignment log "
            f"stores), got {2**70}",
        )
    ]
    # The studio's YAML editor: refused with the same message, nothing saved.
    editor = client_for("editor@example.org")
    text = EXAMPLE_TEXT.replace("seed: ", f"seed: {2**70}  # was ", 1)
    response = editor.post(f"/studio/{SLUG}/yaml", data={"yaml": text, "submit": "Save"})
    assert response.status_code == 422
    assert f"got {2**70}" in response.get_data(as_text=True)


@pytest.mark.parametrize("seed", [SEED_MAX, SEED_MIN])
def test_the_extreme_seeds_assign_participants_on_every_database(database_url, seed):
    spec = study_from_data(study_data(design__seed=seed))
    with session_for(database_url) as session:
        publish(session, spec, status="live")
        participant = enrol(session, spec.slug, language="en", source=None, panel=None, now=NOW)
        assert participant.code


def _problems(**overrides) -> list[tuple[str, str]]:
    with pytest.raises(StudyError) as refused:
        study_from_data(study_data(**overrides))
    return refused.value.errors


def _choice_item_data(value: int) -> dict:
    data = study_data()
    item = next(i for i in data["items"] if i.get("type") == "choice")
    item["options"][0]["value"] = value
    return data


@pytest.mark.parametrize(
    ("overrides", "place", "message"),
    [
        (
            {"design__weights": {"control": 1, "care": MAX_WEIGHT + 1}},
            "design.weights.care",
            f"expected a whole number from 1 to {MAX_WEIGHT}, got {MAX_WEIGHT + 1}",
        ),
        (
            {"design__block_size": 10**12},
            "design.block_size",
            f"expected a whole number from 1 to {MAX_BLOCK_SIZE}, got {10**12}",
        ),
        ({"target_n": MAX_TARGET_N + 1}, "target_n", "Input should be less than or equal to"),
        (
            {"quality": {"speeder_seconds": 10**9}},
            "quality.speeder_seconds",
            "less than or equal to 86400",
        ),
        ({"quality": {"min_cell_size": 10**9}}, "quality.min_cell_size", "less than or equal"),
    ],
    ids=["weight", "block-size", "target-n", "speeder-seconds", "min-cell-size"],
)
def test_numeric_fields_are_range_checked(overrides, place, message):
    problems = _problems(**overrides)
    assert any(loc == place and message in msg for loc, msg in problems), problems


@pytest.mark.parametrize("value", [OPTION_VALUE_MAX + 1, OPTION_VALUE_MIN - 1, 2**70])
def test_an_option_value_must_fit_the_answers_column(value):
    with pytest.raises(StudyError) as refused:
        study_from_data(_choice_item_data(value))
    assert any(
        loc.endswith("options[0].value") and "answers are stored as 32-bit integers" in msg
        for loc, msg in refused.value.errors
    ), refused.value.errors


@pytest.mark.parametrize("alpha", ["nan", "inf", "-inf", 0.5, 0, float("nan")])
def test_the_plans_alpha_must_be_a_finite_level_between_0_and_0_5(alpha):
    problems = _problems(analysis={**study_data()["analysis"], "alpha": alpha})
    assert [loc for loc, _ in problems] == ["analysis.alpha"], problems
    assert "expected a significance level between 0 and 0.5" in problems[0][1]


def test_values_at_the_bounds_are_kept_as_given():
    data = study_data(
        design__seed=SEED_MAX, target_n=MAX_TARGET_N, quality={"speeder_seconds": 86_400}
    )
    data["design"]["weights"] = {a["id"]: MAX_WEIGHT for a in data["arms"]}
    data["design"]["block_size"] = MAX_WEIGHT * len(data["arms"])
    item = next(i for i in data["items"] if i.get("type") == "choice")
    item["options"][0]["value"] = OPTION_VALUE_MAX
    item["options"][1]["value"] = OPTION_VALUE_MIN
    study = study_from_data(data)
    again = json.loads(study.canonical_json())
    assert again["design"]["seed"] == SEED_MAX and again["target_n"] == MAX_TARGET_N
    assert set(again["design"]["weights"].values()) == {MAX_WEIGHT}
    values = [
        o["value"] for o in next(i for i in again["items"] if i["id"] == item["id"])["options"]
    ]
    assert values[:2] == [OPTION_VALUE_MAX, OPTION_VALUE_MIN]
    assert study_from_data(again).content_hash() == study.content_hash()


def test_an_answer_too_long_for_int_is_an_answer_problem_not_a_server_error():
    study = study_from_data(study_data())
    for item in study.items:
        if item.type in ("likert", "slider", "choice", "binary"):
            with pytest.raises(ValueError) as refused:
                item.validate_value("9" * 5000)
            assert refused.value.__class__.__name__ == "ValueProblem", item.id
            assert refused.value.code in ("out_of_range", "not_an_option")


# ---------------------------------------------------------------- the power planner


NON_FINITE = ["sNaN", "-sNaN", "NaN", "nan", "inf", "-Infinity", "1e999999999"]


def test_the_power_planner_answers_non_finite_numbers_with_a_form_error(client_for, studio_app):
    viewer = client_for("viewer@example.org")
    for field in ("effect", "alpha", "attrition", "difference", "outcome_sd"):
        for value in NON_FINITE:
            query = {"effect": "0.2", "attrition": "15", "alpha": "0.05", "correction": "holm"}
            query.update({"difference": "1", "outcome_sd": "1.5", "submit": "Calculate"})
            query[field] = value
            response = viewer.get(f"/studio/{SLUG}/power", query_string=query)
            assert response.status_code == 200, (field, value, response.status_code)
            page = response.get_data(as_text=True)
            assert "not NaN or infinity" in page or "Number must be between" in page, (field, value)
            assert 'id="power-value"' not in page, (field, value)


def test_the_plan_page_answers_a_non_finite_alpha_with_a_form_error(client_for, studio_app):
    owner = client_for("owner@example.org")
    for value in NON_FINITE:
        response = owner.post(
            f"/studio/{SLUG}/plan",
            data={"alpha": value, "correction": "holm", "primary": "support", "save": "Save"},
        )
        assert response.status_code == 422, (value, response.status_code)
        page = response.get_data(as_text=True)
        assert "not NaN or infinity" in page or "significance level between 0 and 0.5" in page


def test_plan_power_refuses_what_the_form_would_not_send():
    from framelab.services.power_planner import plan_power

    spec = study_from_data(study_data())
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="expected a finite"):
            plan_power(
                spec, effect_d=bad, per_arm=100, alpha=0.05, correction="holm", attrition=0.1
            )


# ---------------------------------------------------------------- plots


LABELS = ["$5 or $10", r"$\frac{1}{$ off", "$^$", "pay $x_1$ now"]


@pytest.mark.parametrize("label", LABELS)
def test_arm_labels_with_dollar_signs_are_drawn_as_written(label):
    from analysis.report import charts, render_html
    from tests.report.handmade import handmade_results

    rows = [charts.IntervalRow(label=label, estimate=0.1, low=0.0, high=0.2)]
    svg = charts.interval_plot(rows, title="Effects", xlabel=label, description="d")
    drawn = re.findall(r"<text[^>]*>([^<]*)</text>", svg.split("</title>", 1)[1])
    assert label.replace("&", "&amp;") in drawn, drawn
    results = handmade_results()
    results["meta"]["plan"]["arm_labels"]["fairness"] = label
    html = render_html(results)  # invalid mathtext raised ValueError: a 500 on results
    assert f">{label}</text>" in html
