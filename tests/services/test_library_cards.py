"""Results cards between two instances: sign, register the partner, import, refuse, pool.

Instance A signs cards with its Ed25519 key; instance B (SQLite and PostgreSQL) knows
A's public key and imports them. The pooled figure B's library computes from the
synthetic cards is metafor's (tests/reference/meta/metafor_reference.R).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from framelab.db.library import LibraryCard, LibraryEvent
from framelab.services import card_keys, cards, library, library_view
from framelab.services.accounts import Account
from framelab.services.cards import CardRefused
from tests.factories import session_for
from tests.support.library_cards import metafor_reference, synthetic_card, synthetic_rows

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
ADMIN = Account(id=999, email="admin@example.org", is_admin=True, is_active=True)
TOL = 1e-6


@pytest.fixture
def key_a(tmp_path):
    return card_keys.load_or_create_signing_key(tmp_path / "a" / "card_signing_key")


@pytest.fixture
def instance_b(database_url, key_a):
    with session_for(database_url) as session:
        library.add_partner(session, "Amnesty Kenya", key_a.public_text, own_key_id=None, now=NOW)
        yield session


def signed(card, key) -> bytes:
    return json.dumps(cards.seal(card, key)).encode("utf-8")


def test_the_signing_key_file_is_private_and_stable(tmp_path):
    path = tmp_path / "keys" / "card_signing_key"
    first = card_keys.load_or_create_signing_key(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert card_keys.load_or_create_signing_key(path).key_id == first.key_id
    path.write_text("not a key")
    with pytest.raises(card_keys.CardKeyError, match="not an Ed25519 private key"):
        card_keys.load_or_create_signing_key(path)


def test_a_card_exported_by_one_instance_imports_into_another(instance_b, key_a):
    card = synthetic_card(synthetic_rows()[0])
    imported = library.import_card(instance_b, signed(card, key_a), now=NOW)
    assert imported == card
    row = instance_b.scalar(sa.select(LibraryCard))
    assert row.origin == "imported" and row.key_id == key_a.key_id
    # The stored envelope still verifies.
    again, kid = cards.open_envelope(row.envelope, {key_a.key_id: key_a.public})
    assert again == card and kid == key_a.key_id
    # A second frame shares the control: the card counts the control once.
    two = synthetic_card(synthetic_rows()[1])
    two["frames"].append({**two["frames"][0], "arm": "loyalty", "values": ["loyalty"]})
    two["results"].append({**two["results"][0], "arm": "loyalty", "n_treatment": 200})
    library.import_card(instance_b, signed(two, key_a), now=NOW)
    view = library_view.library(instance_b, ADMIN)
    entry = next(e for e in view.cards if e.card == card)
    assert entry.source == "Amnesty Kenya" and entry.origin == "imported"
    assert entry.participants == synthetic_rows()[0]["n"]
    control = two["results"][0]["n_control"]
    entry = next(e for e in view.cards if e.card == two)
    assert entry.participants == control + two["results"][0]["n_treatment"] + 200
    events = instance_b.scalars(sa.select(LibraryEvent.action).order_by(LibraryEvent.id)).all()
    assert events == ["partner_added", "card_imported", "card_imported"]


def test_a_tampered_card_is_refused_with_a_clear_message(instance_b, key_a):
    envelope = cards.seal(synthetic_card(synthetic_rows()[0]), key_a)
    envelope["card"]["results"][0]["estimate"] = 0.9  # a better-looking effect
    with pytest.raises(CardRefused, match=r"does not match the card\. It was changed after"):
        library.import_card(instance_b, json.dumps(envelope), now=NOW)
    assert instance_b.scalar(sa.select(sa.func.count()).select_from(LibraryCard)) == 0
    refused = instance_b.scalar(
        sa.select(LibraryEvent.detail).where(LibraryEvent.action == "card_refused")
    )
    assert "changed after it was signed" in refused


def test_cards_from_unknown_keys_rehearsals_and_repeats_are_refused(instance_b, key_a, tmp_path):
    stranger = card_keys.load_or_create_signing_key(tmp_path / "c" / "key")
    row = synthetic_rows()[0]
    with pytest.raises(CardRefused, match="no partner of this instance registered"):
        library.import_card(instance_b, signed(synthetic_card(row), stranger), now=NOW)
    with pytest.raises(CardRefused, match="rehearsal card"):
        library.import_card(instance_b, signed(synthetic_card(row, rehearsal=True), key_a), now=NOW)
    library.import_card(instance_b, signed(synthetic_card(row), key_a), now=NOW)
    with pytest.raises(CardRefused, match="already in the library"):
        library.import_card(instance_b, signed(synthetic_card(row), key_a), now=NOW)
    with pytest.raises(CardRefused, match="not JSON"):
        library.import_card(instance_b, b"\x00garbage", now=NOW)


def test_a_card_that_smuggles_more_than_aggregates_is_refused(key_a):
    card = synthetic_card(synthetic_rows()[0])
    card["results"][0]["participants"] = ["X7K2-P9QM"]
    with pytest.raises(CardRefused, match=r"results\[0\]: unexpected participants"):
        cards.seal(card, key_a)
    card = synthetic_card(synthetic_rows()[0])
    card["results"][0]["n_treatment"] = 4
    with pytest.raises(CardRefused, match="4 is below the card's minimum cell size 10"):
        cards.validate_card(card)
    card = synthetic_card(synthetic_rows()[0])
    card["study"]["comments"] = ["I was tortured in 1998"]
    with pytest.raises(CardRefused, match="card study: unexpected comments"):
        cards.validate_card(card)


def test_partner_keys_are_checked(database_url, key_a):
    with session_for(database_url) as session:
        with pytest.raises(CardRefused, match="public_key: expected the partner's Ed25519"):
            library.add_partner(session, "X", "abc", own_key_id=None, now=NOW)
        with pytest.raises(CardRefused, match="this instance's own key"):
            library.add_partner(session, "Me", key_a.public_text, own_key_id=key_a.key_id, now=NOW)
        library.add_partner(session, "A", key_a.public_text, own_key_id=None, now=NOW)
        with pytest.raises(CardRefused, match="already registered"):
            library.add_partner(session, "A again", key_a.public_text, own_key_id=None, now=NOW)


def test_the_library_pools_the_synthetic_cards_as_metafor_does(instance_b, key_a):
    rows = synthetic_rows()
    for row in rows:
        library.import_card(instance_b, signed(synthetic_card(row), key_a), now=NOW)
    view = library_view.library(instance_b, ADMIN)
    (group,) = view.groups
    pool = group.pool
    assert (group.value, group.outcome, pool.studies) == ("care", "post_support", 12)
    assert pool.participants == sum(r["n"] for r in rows) and pool.imported == 12
    ref = metafor_reference("synthetic")
    fit = pool.result
    for ours, key in [
        (fit.estimate, "estimate"),
        (fit.std_error, "se"),
        (fit.conf_low, "ci_lb"),
        (fit.conf_high, "ci_ub"),
        (fit.pi_low, "pi_lb"),
        (fit.pi_high, "pi_ub"),
        (fit.tau2, "tau2"),
        (fit.i2, "I2"),
    ]:
        assert abs(ours - ref[key]) < TOL, (key, ours, ref[key], ref["call"])
    shrunk = sorted(fe.shrunk[0] for fe in group.frames)
    assert np_close(shrunk, sorted(ref["blup"]["pred"]))
    reg = metafor_reference("synthetic_ideology")
    assert pool.moderator == "audience ideology"
    slope = pool.regression.coefficients.set_index("term").loc["moderator"]
    assert abs(slope["estimate"] - reg["coef"][1]) < TOL
    assert abs(slope["std_error"] - reg["se"][1]) < TOL
    assert pool.words.startswith("care frames helped on average")


def np_close(a, b) -> bool:
    return len(a) == len(b) and all(abs(x - y) < TOL for x, y in zip(a, b, strict=True))


def test_the_library_refuses_to_pool_fewer_than_three_studies_and_filters(instance_b, key_a):
    rows = synthetic_rows()
    for row, country in zip(rows[:4], ("KE", "KE", "UG", "KE"), strict=True):
        card = synthetic_card(
            row, country=country, messenger="a nurse" if country == "KE" else None
        )
        library.import_card(instance_b, signed(card, key_a), now=NOW)
    view = library_view.library(instance_b, ADMIN, library_view.Filters(country="UG"))
    assert len(view.cards) == 1
    (group,) = view.groups
    assert group.pool.result is None
    assert group.pool.refused == "Not pooled: 1 study; pooling needs at least 3."
    kenya = library_view.library(instance_b, ADMIN, library_view.Filters(country="KE"))
    assert kenya.groups[0].pool.studies == 3 and kenya.groups[0].pool.result is not None
    assert kenya.groups[0].pool.regression is None  # fewer than 10 studies
    nurse = library_view.library(instance_b, ADMIN, library_view.Filters(messenger="a nurse"))
    assert nurse.groups[0].pool.studies == 3
    assert view.countries == ["KE", "UG"] and view.messengers == ["a nurse"]
    assert library_view.Filters(audience="nairobi") and (
        len(library_view.library(instance_b, ADMIN, library_view.Filters(audience="nairobi")).cards)
        == 4
    )
    (care,) = library_view.value_evidence(instance_b, ADMIN, ["care"])
    assert care.studies == 4
    assert library_view.value_evidence(instance_b, ADMIN, ["loyalty"]) == []


def test_finality_follows_the_locked_target_or_the_owners_confirmed_close(database_url):
    from datetime import timedelta

    from framelab.services import study_lifecycle
    from framelab.services.study_versions import set_status
    from tests.factories import approve, make_study, publish
    from tests.studio.participants import complete_participant

    spec = make_study(target_n=2)
    with session_for(database_url) as session:
        publish(session, spec, status="draft", now=NOW)
        approve(session, spec.slug, now=NOW)
        study_lifecycle.change_status(session, spec.slug, "live", now=NOW)
        state = library.finality(session, spec.slug)
        assert (
            not state.final and state.reason == "torture-ban is live; a card needs a closed study"
        )
        for i in range(2):
            complete_participant(session, spec.slug, start=NOW + timedelta(minutes=5 * i))
        state = library.finality(session, spec.slug)
        assert (state.final, state.closed_by, state.reason) == (
            True,
            "target",
            "closed at its target",
        )
        assert state.launched_on == NOW.date()
        # Closed some other way (no target reached, no owner's confirmed close): not final.
        publish(session, make_study(slug="other", target_n=50), status="live", now=NOW)
        set_status(session, "other", "closed", now=NOW)
        state = library.finality(session, "other")
        assert not state.final and "without reaching its target" in state.reason


def test_subgroup_rows_go_in_with_every_level_or_not_at_all():
    from datetime import date

    from tests.factories import make_study

    spec = make_study()

    def sub(level, n_t, n_c, suppressed=False):
        return {
            "outcome": "post_support", "moderator": "pre_age_group", "level": level,
            "arm": "care", "estimate": None if suppressed else 0.4,
            "std_error": None if suppressed else 0.2, "conf_low": None, "conf_high": None,
            "n_treatment": None if suppressed else n_t, "n_control": None if suppressed else n_c,
            "suppressed": suppressed,
        }  # fmt: skip

    def card_for(subgroups):
        results = {
            "meta": {
                "primary_method": "difference_in_means",
                "outcomes": [{"name": "post_support", "label": "support", "type": "ordinal"}],
            },
            "effects": [],
            "effect_sizes": [],
            "subgroups": subgroups,
        }
        details = cards.CardDetails(country="KE", audience="Adults")
        return cards.build_card(
            spec, results, details, launched_on=date(2026, 1, 1),
            closed_on=date(2026, 2, 1), closed_by="owner", rehearsal=False,
        )  # fmt: skip

    both = card_for([sub("18-34", 30, 31), sub("35+", 25, 24)])
    assert [r["subgroup"]["level"] for r in both["results"]] == ["18-34", "35+"]
    assert both["results"][0]["n_treatment"] == 30
    # One level too small (suppressed by analysis, or under the card's cell size): none.
    assert card_for([sub("18-34", 30, 31), sub("35+", 0, 0, suppressed=True)])["results"] == []
    assert card_for([sub("18-34", 30, 31), sub("35+", 9, 40)])["results"] == []
