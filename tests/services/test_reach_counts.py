"""The dashboard's reach tables: per channel link and per invitation list (issue 21)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from framelab.domain.disclosure import HIDDEN
from framelab.services import channel_links
from framelab.services.dashboard import dashboard
from framelab.services.flow import consent_from_link, withdraw
from framelab.services.participant_store.reach import channel_arrival, consent_from_invitation
from framelab.services.reach_counts import NO_REACH, OTHER_WAYS, band, reach_tables
from framelab.services.study_versions import get_study
from tests.db.releases import finish_half_way
from tests.factories import make_study, publish
from tests.services.conftest import NOW
from tests.services.test_reach import _tokens, _upload


def _live(session, minimum: int):
    spec = make_study(quality={"min_cell_size": minimum})
    publish(session, spec)
    study = get_study(session, spec.slug)
    session.rollback()
    return spec, study


def _through(session, spec, link, n: int, *, complete: int, start) -> list[str]:
    codes = []
    for i in range(n):
        code, _ = consent_from_link(
            session,
            spec.slug,
            {"consent": "yes"},
            language="en",
            source=link.source,
            channel=link.id,
            now=start + timedelta(minutes=i),
        )
        if i < complete:
            finish_half_way(session, spec, code, start + timedelta(minutes=i, seconds=5))
        codes.append(code)
    return codes


def test_a_study_without_links_or_lists_has_no_reach_tables(session, example_spec):
    publish(session, example_spec)
    assert reach_tables(session, get_study(session, example_spec.slug)) is NO_REACH


def test_channel_counts_are_exact_with_a_minimum_of_one(session):
    spec, study = _live(session, 1)
    sms = channel_links.create_channel_link(session, study.id, kind="sms", name="", now=NOW)
    poster = channel_links.create_channel_link(session, study.id, kind="poster", name="", now=NOW)
    for _ in range(3):
        channel_arrival(session, sms.code, {})
    _through(session, spec, sms, 3, complete=2, start=NOW)
    gone = _through(session, spec, poster, 2, complete=0, start=NOW + timedelta(hours=1))
    withdraw(session, gone[0], now=NOW + timedelta(hours=2))
    consent_from_link(session, spec.slug, {"consent": "yes"}, language="en", source=None, now=NOW)
    rows = {r.name: r for r in reach_tables(session, get_study(session, spec.slug)).channels}
    assert [c.text for c in rows["SMS"].cells] == ["3", "2", "1"]
    assert rows["SMS"].opened == 3 and rows["Poster (QR code)"].opened == 0
    # The withdrawn participant left the poster's row (their channel is erased with them).
    assert [c.text for c in rows["Poster (QR code)"].cells] == ["1", "0", "1"]
    assert [c.text for c in rows[OTHER_WAYS].cells] == ["1", "0", "1"]
    assert rows[OTHER_WAYS].opened is None


def test_channel_counts_move_in_batches_and_small_cells_are_hidden(session):
    spec, study = _live(session, 5)
    sms = channel_links.create_channel_link(session, study.id, kind="sms", name="", now=NOW)
    poster = channel_links.create_channel_link(session, study.id, kind="poster", name="", now=NOW)
    _through(session, spec, sms, 8, complete=0, start=NOW)
    _through(session, spec, poster, 3, complete=0, start=NOW + timedelta(hours=1))
    rows = reach_tables(session, get_study(session, spec.slug)).channels
    consented = [r.cells[0] for r in rows]
    # 11 consents: the first 10 are released (8 SMS, 2 poster). The poster's 2 is hidden,
    # and so is the SMS count: hidden cells must add up to the minimum, or the total (the
    # exact funnel) would give the small one back.
    assert [c.text for c in consented] == [HIDDEN, HIDDEN, "0"]
    assert all(r.cells[1].text == "0" for r in rows)


def test_list_response_is_shown_in_bands_and_hidden_for_small_lists(session):
    spec, study = _live(session, 5)
    tokens = _tokens(_upload(session, study.id, "id\n" + "\n".join(f"m{i}" for i in range(12))))
    _upload(session, study.id, "id\nm0\nm1\n", name="Tiny")
    for i in range(7):
        _slug, code, _ = consent_from_invitation(
            session, tokens[f"m{i}"], {"consent": "yes"}, language="en", now=NOW
        )
        if i < 2:
            finish_half_way(session, spec, code, NOW + timedelta(minutes=i))
    rows = {r.name: r for r in reach_tables(session, get_study(session, spec.slug)).lists}
    members = rows["Members"]
    assert members.invited == 12
    assert (members.consented.text, members.completed.text) == ("5–9", "fewer than 5")
    assert members.rate == "42–75%"
    tiny = rows["Tiny"]
    assert tiny.invited == 2 and tiny.consented.hidden and HIDDEN in tiny.rate
    # The dashboard carries the tables.
    figures = dashboard(session, get_study(session, spec.slug))
    assert [r.name for r in figures.reach.lists] == ["Members", "Tiny"]


@pytest.mark.parametrize(
    ("count", "minimum", "text"),
    [(0, 5, "0"), (3, 5, "fewer than 5"), (5, 5, "5–9"), (14, 5, "10–14"), (7, 1, "7")],
)
def test_bands(count, minimum, text):
    assert band(count, minimum).text == text
