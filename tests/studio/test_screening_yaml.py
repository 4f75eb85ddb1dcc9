"""The studio's study-file editor takes the screener, quota and panel sections (issue 21)."""

from __future__ import annotations

import hashlib
import json
import re

from framelab.services.study_versions import LOCK_PARTS, lock_hashes
from tests.factories import make_study
from tests.studio.conftest import SLUG

SECTIONS = """screener:
  items: [ideology]
  screen_out:
    any:
    - {item: ideology, in: [1]}
    - all: [{item: ideology, not_in: [1, 2, 3, 4]}, {item: ideology, in: [5]}]
quota:
  ideology: {left: 300, right: 300}
panel:
  name: prolific
  outcomes:
    completed: {code: C7XK2Q, redirect: "https://app.prolific.com/submissions/complete?cc=C7XK2Q"}
    screened_out: {code: C2SCR, redirect: "https://app.prolific.com/submissions/complete?cc=C2SCR"}
    over_quota: {code: C3QTA}
"""


def _file(client) -> str:
    """The study file without its `completion` (a study gives it or `panel`, not both)."""
    text = client.get(f"/studio/{SLUG}/study.yaml").get_data(as_text=True)
    return re.sub(r"^completion:\n(  .*\n)+", "", text, flags=re.M)


def test_the_study_file_editor_saves_the_sections_and_shows_them_again(client_for):
    client = client_for("editor@example.org")
    text = _file(client)
    assert "screener" not in text
    response = client.post(f"/studio/{SLUG}/yaml", data={"yaml": text + SECTIONS})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    saved = _file(client)
    assert "screen_out:" in saved and "not_in:" in saved and "over_quota:" in saved
    assert "ideology:\n    left: 300" in saved


def test_a_rule_mistake_is_named_where_it_is(client_for):
    client = client_for("editor@example.org")
    bad = _file(client) + SECTIONS.replace("in: [5]", "in: [8]")
    response = client.post(f"/studio/{SLUG}/yaml", data={"yaml": bad})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<code>screener.screen_out.any[1].all[1].in[0]</code>: 8 is not an answer" in html


def test_the_screener_and_quota_lock_with_the_design_and_older_hashes_stay():
    plain = make_study()
    data = plain.model_dump(mode="json")
    # The design part's hash of a study without the new sections is what it always was.
    old = {
        part: hashlib.sha256(
            json.dumps(
                {key: data.get(key) for key in keys if key not in ("screener", "quota")},
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
        ).hexdigest()
        for part, keys in LOCK_PARTS.items()
    }
    assert lock_hashes(plain) == old
    quoted = make_study(quota={"ideology": {"left": 10}})
    assert lock_hashes(quoted)["design"] != lock_hashes(plain)["design"]
    raised = make_study(quota={"ideology": {"left": 20}})
    assert lock_hashes(raised)["design"] != lock_hashes(quoted)["design"]
    # Panel codes are no part of any lock: they may change after launch, like `completion`.
    assert not [part for part, keys in LOCK_PARTS.items() if "panel" in keys]


# ---------------------------------------------------------------- the screener form


def _screening_form(client) -> dict[str, str]:
    html = client.get(f"/studio/{SLUG}/screening").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    return {"csrf_token": token.group(1)} if token else {}


def test_the_screener_form_saves_a_flat_rule_and_shows_it_again(client_for):
    client = client_for("editor@example.org")
    page = client.get(f"/studio/{SLUG}/screening")
    assert page.status_code == 200 and "Screening" in page.get_data(as_text=True)
    form = {
        **_screening_form(client),
        "items": ["ideology", "age_group"],
        "combine": "all",
        "item_0": "ideology",
        "op_0": "in",
        "values_0": "1, 2",
        "item_1": "age_group",
        "op_1": "not_in",
        "values_1": "3",
    }
    response = client.post(f"/studio/{SLUG}/screening", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    saved = client.get(f"/studio/{SLUG}/study.yaml").get_data(as_text=True)
    assert "screener:\n  items:\n  - ideology\n  - age_group" in saved
    assert "all:\n    - item: ideology\n      in:\n      - 1\n      - 2" in saved
    again = client.get(f"/studio/{SLUG}/screening").get_data(as_text=True)
    assert 'name="values_0" type="text" value="1, 2"' in again
    assert re.search(
        r'<input checked id="combine-\d" name="combine" type="radio" value="all">', again
    )


def test_the_screener_form_names_its_mistakes_in_place(client_for):
    client = client_for("editor@example.org")
    form = {
        **_screening_form(client),
        "items": ["ideology"],
        "combine": "any",
        "item_0": "ideology",
        "op_0": "in",
        "values_0": "9",
        "item_1": "ideology",
        "op_1": "in",
        "values_1": "one",
    }
    response = client.post(f"/studio/{SLUG}/screening", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give whole numbers separated by commas" in html
    form["values_1"] = "2"
    html = client.post(f"/studio/{SLUG}/screening", data=form).get_data(as_text=True)
    assert "9 is not an answer of &#39;ideology&#39;" in html


def test_no_ticked_question_removes_the_screener():
    from framelab.domain.builder.build_screening import save_screener, screener_rows

    spec = make_study(
        screener={"items": ["ideology"], "screen_out": {"item": "ideology", "in": [1]}}
    )
    assert screener_rows(spec).conditions == (("ideology", "in", (1,)),)
    assert save_screener(spec, [], "any", []).screener is None
    nested = make_study(
        screener={
            "items": ["ideology"],
            "screen_out": {"any": [{"all": [{"item": "ideology", "in": [1]}]}]},
        }
    )
    assert screener_rows(nested) is None
