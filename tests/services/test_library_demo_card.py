"""The demo study's card, built through the real path, checked field by field.

study (examples/torture-ban.yaml) -> simulated participants through the real pages
(rehearsal rows, DECISIONS rule 4) -> the owner's confirmed close -> export ->
analysis -> card. No participant-level row, free text or identifier may be in it:
every key of the card is named here, every number is an aggregate of the analysis, and
no participant code, answer text or timestamp appears anywhere in its bytes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

import analysis
from framelab.db import models as m
from framelab.db.library import LibraryCard
from framelab.db.session import make_engine, make_session_factory
from framelab.services import card_keys, cards, library, study_lifecycle
from framelab.services.cards import CardDetails, CardRefused
from framelab.services.reporting import report_inputs
from framelab.simulate import run_simulation
from tests.factories import make_study
from tests.web.conftest import make_app

SPEC = make_study()
N = 90
NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
DETAILS = CardDetails(
    country="ke",
    audience="Adults in Kenya recruited through an online panel",
    messengers={"care": "a nurse", "loyalty": "a veteran"},
    include_text=False,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("library-demo")
    url = f"sqlite:///{folder / 'demo.sqlite'}"
    make_app(url).extensions["framelab.engine"].dispose()
    config = {"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False}
    run_simulation(SPEC, N, effects={"care": 1.2, "loyalty": -0.8}, seed=11, app_config=config)
    key = card_keys.load_or_create_signing_key(folder / "card_signing_key")
    engine = make_engine(url)
    session = make_session_factory(engine)()
    yield session, key
    session.close()
    engine.dispose()


@pytest.mark.slow
def test_a_card_needs_a_final_study_and_real_participants(demo):
    session, key = demo
    with pytest.raises(CardRefused, match="torture-ban is live; a card needs a closed study"):
        library.publish_card(session, SPEC.slug, DETAILS, key=key, now=NOW, rehearsal=True)
    study_lifecycle.change_status(session, SPEC.slug, "close", now=NOW, require_review=False)
    state = library.finality(session, SPEC.slug)
    assert (state.final, state.closed_by) == (True, "owner")
    # Every bot is a rehearsal row: the real analysis has nobody to analyse.
    with pytest.raises(CardRefused, match="has no participants to analyse"):
        library.publish_card(session, SPEC.slug, DETAILS, key=key, now=NOW)
    assert session.scalar(sa.select(sa.func.count()).select_from(LibraryCard)) == 0


@pytest.mark.slow
def test_the_demo_card_holds_aggregates_only_field_by_field(demo):
    session, key = demo
    if library.finality(session, SPEC.slug).closed_by is None:
        study_lifecycle.change_status(session, SPEC.slug, "close", now=NOW, require_review=False)
    envelope = library.publish_card(session, SPEC.slug, DETAILS, key=key, now=NOW, rehearsal=True)
    # A rehearsal card is returned for checking, never kept in the library.
    assert session.scalar(sa.select(sa.func.count()).select_from(LibraryCard)) == 0
    assert set(envelope) == {"format", "card", "signature"}
    assert set(envelope["signature"]) == {"algorithm", "key_id", "value"}
    card, kid = cards.open_envelope(json.dumps(envelope), {key.key_id: key.public})
    assert kid == key.key_id
    assert set(card) == {"schema", "study", "frames", "outcomes", "results"}
    assert card["schema"] == "framelab.results-card/1"

    study = card["study"]
    assert study == {
        "title": SPEC.text(SPEC.title, SPEC.default_language),
        "launched_on": study["launched_on"],
        "closed_on": "2027-01-15",
        "closed_by": "owner",
        "country": "KE",
        "languages": list(SPEC.languages),
        "audience": DETAILS.audience,
        "audience_moderator": None,
        "target_n": SPEC.target_n,
        "min_cell_size": SPEC.quality.min_cell_size,
        "rehearsal": True,
    }
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", study["launched_on"])

    frame_arms = [a for a in SPEC.arms if not a.control]
    assert [f["arm"] for f in card["frames"]] == [a.id for a in frame_arms]
    for frame, arm in zip(card["frames"], frame_arms, strict=True):
        assert set(frame) == {"arm", "label", "values", "messenger", "text_sha256"}
        assert frame["values"] == list(arm.frame.values)
        assert frame["messenger"] == DETAILS.messengers.get(arm.id)
        assert frame["text_sha256"] == cards.frame_text_hash(
            arm.frame.title.to_data(), arm.frame.body.to_data()
        )

    # Every number is the analysis's own aggregate of the same export.
    inputs = report_inputs(session, SPEC.slug, rehearsal=True, now=NOW)
    results = analysis.run(inputs.data, inputs.plan, provenance=inputs.provenance)
    min_cell = SPEC.quality.min_cell_size
    text_items = {i.id for i in SPEC.items if i.type == "text"}
    assert text_items and not text_items & set(card["outcomes"])
    assert set(card["outcomes"]) <= {o["name"] for o in results["meta"]["outcomes"]}
    primary = results["meta"]["primary_method"]
    effects = {(r["arm"], r["outcome"]): r for r in results["effects"] if r["method"] == primary}
    sizes = {(r["arm"], r["outcome"]): r for r in results["effect_sizes"]}
    kinds = set()
    for row in card["results"]:
        assert set(row) == {
            "arm", "outcome", "subgroup", "scale", "method", "estimate", "std_error",
            "conf_low", "conf_high", "n_treatment", "n_control",
        }  # fmt: skip
        assert min(row["n_treatment"], row["n_control"]) >= min_cell
        key = (row["arm"], row["outcome"])
        if row["subgroup"] is None and row["scale"] == "raw":
            source = effects[key]
            assert row["method"] == primary and row["estimate"] == source["estimate"]
        elif row["subgroup"] is None:
            source = {**sizes[key], "estimate": sizes[key]["hedges_g"]}
            assert row["method"] == "hedges_g"
        else:
            assert set(row["subgroup"]) == {"moderator", "level"}
            assert row["subgroup"]["moderator"] in inputs.plan["moderators"]
            assert row["method"] == "subgroup_difference"
            source = next(
                r
                for r in results["subgroups"]
                if (r["arm"], r["outcome"], r["moderator"]) == (*key, row["subgroup"]["moderator"])
                and not r.get("suppressed")
                and r["estimate"] == row["estimate"]
            )
        for field in ("estimate", "std_error", "n_treatment", "n_control"):
            assert row[field] == source[field], (row, field)
        kinds.add((row["scale"], row["subgroup"] is None))
    assert {("raw", True), ("smd", True)} <= kinds
    suppressed = [r for r in results["subgroups"] if r.get("suppressed")]
    assert suppressed  # small cells exist in the demo, and none of them made it in
    # Secondary suppression: a frame x outcome x moderator is in the card with all its
    # levels or not at all (else the whole-sample row minus the others gives the small one).
    shown = {
        (r["arm"], r["outcome"], r["subgroup"]["moderator"]): set()
        for r in card["results"]
        if r["subgroup"]
    }
    for r in card["results"]:
        if r["subgroup"]:
            shown[(r["arm"], r["outcome"], r["subgroup"]["moderator"])].add(r["subgroup"]["level"])
    for key, levels in shown.items():
        reported = [
            r for r in results["subgroups"] if (r["arm"], r["outcome"], r["moderator"]) == key
        ]
        assert not any(r.get("suppressed") for r in reported), key
        assert len(levels) == len(reported), key
    partly = {(r["arm"], r["outcome"], r["moderator"]) for r in suppressed}
    assert partly and not partly & set(shown)

    # Nothing of any one participant is in the bytes: codes, answers' text, times.
    text = json.dumps(envelope, ensure_ascii=False)
    codes = session.scalars(sa.select(m.Participant.code)).all()
    assert len(codes) == N
    assert not [c for c in codes if c in text]
    answers = session.scalars(
        sa.select(m.Response.value_text).where(m.Response.item_id.in_(text_items))
    ).all()
    assert answers and not [a for a in answers if a and len(a) > 3 and a in text]
    assert "participant" not in text and not re.search(r"\d{2}:\d{2}:\d{2}", text)
    session.rollback()
