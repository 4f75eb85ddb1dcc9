"""The frame library's studio pages: who sees what, partners, import, a study's card."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from framelab.db.library import LibraryCard, LibraryEvent
from framelab.db.review import AuditEvent
from framelab.services import card_keys, cards
from framelab.services.study_versions import get_study
from tests.studio.conftest import NOW, SLUG
from tests.support.library_cards import synthetic_card, synthetic_rows


def _session(app):
    from framelab.web.database import EXTENSION_KEY

    return app.extensions[EXTENSION_KEY]()


def _partner_key(tmp_path):
    return card_keys.load_or_create_signing_key(tmp_path / "partner" / "card_signing_key")


def _card_file(card, key) -> tuple[io.BytesIO, str]:
    return io.BytesIO(json.dumps(cards.seal(card, key)).encode()), "partner.card.json"


def test_admin_adds_a_partner_and_imports_its_cards_tampered_ones_are_refused(
    studio_app, client_for, tmp_path
):
    partner = _partner_key(tmp_path)
    admin = client_for("admin@example.org")
    page = admin.get("/studio/library")
    assert page.status_code == 200
    assert card_keys.TESTING_KEY.public_text.encode() in page.data
    r = admin.post(
        "/studio/library/partners",
        data={"partner-name": "Amnesty Kenya", "partner-public_key": partner.public_text},
        follow_redirects=True,
    )
    assert b"Amnesty Kenya added" in r.data
    for row in synthetic_rows()[:3]:
        r = admin.post(
            "/studio/library/import",
            data={"import-card": _card_file(synthetic_card(row), partner)},
            content_type="multipart/form-data",
            follow_redirects=True,
        )
        assert b"its signature is valid" in r.data
    envelope = cards.seal(synthetic_card(synthetic_rows()[3]), partner)
    envelope["card"]["study"]["audience"] = "Someone else entirely"
    r = admin.post(
        "/studio/library/import",
        data={"import-card": (io.BytesIO(json.dumps(envelope).encode()), "x.card.json")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert b"Import refused: card signature: does not match the card" in r.data
    page = admin.get("/studio/library").get_data(as_text=True)
    assert "Pooled:" in page and "3 studies" in page and "Imported from Amnesty Kenya" in page
    with _session(studio_app) as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(LibraryCard)) == 3
        actions = s.scalars(sa.select(LibraryEvent.action)).all()
    assert actions.count("card_imported") == 3 and actions.count("card_refused") == 1


def test_only_admins_register_partners_or_import(client_for, tmp_path):
    owner = client_for("owner@example.org")
    assert owner.get("/studio/library").status_code == 200
    r = owner.post(
        "/studio/library/partners",
        data={"partner-name": "X", "partner-public_key": _partner_key(tmp_path).public_text},
    )
    assert r.status_code == 403
    assert client_for(None).get("/studio/library").status_code in (302, 401)


def test_a_study_card_is_for_owners_and_analysts_once_the_study_is_final(studio_app, client_for):
    owner = client_for("owner@example.org")
    page = owner.get(f"/studio/{SLUG}/library-card")
    assert page.status_code == 200 and b"Not yet: torture-ban is draft" in page.data
    assert client_for("viewer@example.org").get(f"/studio/{SLUG}/library-card").status_code == 403
    assert client_for("stranger@example.org").get(f"/studio/{SLUG}/library-card").status_code == 404
    # No card yet: nothing to download.
    r = owner.get(f"/studio/{SLUG}/library-card.card.json", follow_redirects=True)
    assert b"This study has no results card yet" in r.data


def test_a_local_card_downloads_signed_and_audited_and_only_its_team_sees_it(
    studio_app, client_for
):
    with _session(studio_app) as s:
        study = get_study(s, SLUG)
        card = synthetic_card(synthetic_rows()[0])
        envelope = cards.seal(card, card_keys.TESTING_KEY)
        s.add(
            LibraryCard(
                card_hash=cards.card_id(card),
                origin="local",
                study_id=study.id,
                key_id=card_keys.TESTING_KEY.key_id,
                envelope=json.dumps(envelope),
                added_at=NOW,
                added_by="owner@example.org",
            )
        )
        s.commit()
    analyst = client_for("analyst@example.org")
    r = analyst.get(f"/studio/{SLUG}/library-card.card.json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    opened, _ = cards.open_envelope(
        r.data, {card_keys.TESTING_KEY.key_id: card_keys.TESTING_KEY.public}
    )
    assert opened == card
    with _session(studio_app) as s:
        events = s.scalars(sa.select(AuditEvent.action).where(AuditEvent.study_id == study.id))
        assert "card_exported" in list(events)
    assert card["study"]["title"] in analyst.get("/studio/library").get_data(as_text=True)
    # A viewer of the study, and someone of another team, do not see its card.
    for email in ("viewer@example.org", "stranger@example.org"):
        assert card["study"]["title"] not in client_for(email).get("/studio/library").get_data(
            as_text=True
        )


def test_the_frame_editor_and_the_power_planner_show_what_the_value_did_before(
    studio_app, client_for, tmp_path
):
    from analysis.meta import random_effects
    from framelab.services import library

    partner = _partner_key(tmp_path)
    # Shifted up so that even the lower prediction bound is a plannable effect: the
    # planner simulates, and a tiny d would mean simulating huge samples.
    rows = [{**row, "estimate": row["estimate"] + 0.3} for row in synthetic_rows()]
    with _session(studio_app) as s:
        library.add_partner(s, "Partner", partner.public_text, own_key_id=None, now=NOW)
        for row in rows:
            library.import_card(s, json.dumps(cards.seal(synthetic_card(row), partner)), now=NOW)
    fit = random_effects([r["estimate"] for r in rows], [r["std_error"] ** 2 for r in rows])
    editor = client_for("editor@example.org")
    page = editor.get(f"/studio/{SLUG}/frames/care").get_data(as_text=True)
    assert "What care frames did before" in page
    assert f'pooled effect d = <span class="evidence-estimate">{fit.estimate:+.2f}</span>' in page
    assert f"{fit.pi_low:+.2f} and {fit.pi_high:+.2f}" in page and "12 studies" in page
    # A value no card has: the editor says so rather than showing nothing.
    loyalty = editor.get(f"/studio/{SLUG}/frames/loyalty").get_data(as_text=True)
    assert "has no finished study with a loyalty frame yet" in loyalty
    # The power planner offers the pooled estimate and its lower prediction bound.
    power = editor.get(f"/studio/{SLUG}/power").get_data(as_text=True)
    assert f"effect={fit.estimate:.3f}" in power
    assert f"effect={fit.pi_low:.3f}" in power and fit.pi_low > 0.2
    planned = editor.get(f"/studio/{SLUG}/power?effect={fit.pi_low:.3f}").get_data(as_text=True)
    assert f"Power for d = {fit.pi_low:.3f}" in planned
    # Twelve studies with the audience measure: the library compares them on it.
    from analysis.meta_moderator import meta_regression

    slope = meta_regression(
        [r["estimate"] for r in rows], [r["std_error"] ** 2 for r in rows],
        [r["ideology"] for r in rows],
    ).coefficients.iloc[1]  # fmt: skip
    page = editor.get("/studio/library").get_data(as_text=True)
    assert (
        f"Compared on audience ideology: each unit changes the effect by "
        f"{slope.estimate:+.3f} (95% CI {slope.conf_low:+.3f} to {slope.conf_high:+.3f}"
    ) in page
