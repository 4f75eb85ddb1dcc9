"""Privacy: nothing about the participant's device is kept, panel ids are salted hashes,
withdrawal erases answers (also later with the code), free text can be encrypted at rest."""

from __future__ import annotations

import hashlib
import logging

import pytest

from framelab.crypto import PREFIX, TextKeyError, decrypt_text, generate_text_key
from framelab.domain.participant_codes import grouped
from framelab.services.export import export_long, export_tidy
from framelab.testing.forms import csrf_token
from tests.factories import make_study
from tests.members import give_role
from tests.security.conftest import dump_database, table_rows
from tests.web.conftest import make_app
from tests.web.walker import Walker

SPEC = make_study()
ADDRESS = "203.0.113.77"
FORWARDED = "198.51.100.201"
AGENT = "FramelabProbe/9.9 (X11; PrivacyTest)"
PANEL_ID = "5f1e0c2b9a7d4e3f2a1b0c9d"
SECRET_TEXT = "I was detained at the border in 2019"


def probe_client(app):
    client = app.test_client()
    client.environ_base.update(
        {
            "REMOTE_ADDR": ADDRESS,
            "HTTP_USER_AGENT": AGENT,
            "HTTP_X_FORWARDED_FOR": FORWARDED,
            "HTTP_REFERER": "https://referrer.example/secret-page",
        }
    )
    return client


def test_no_address_user_agent_or_referrer_in_the_database_or_the_logs(app, clock, caplog):
    caplog.set_level(logging.DEBUG)
    walker = Walker(probe_client(app), SPEC, clock)
    walker.consent(query=f"?PROLIFIC_PID={PANEL_ID}&src=sms")
    for step in ("pre", "message", "post", "intent"):
        walker.answer(step)
    walker.page()
    dump = dump_database(app)
    assert "sms" in dump and "completed" in dump  # the dump holds the run
    logs = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    for secret in (ADDRESS, FORWARDED, AGENT, "referrer.example", PANEL_ID):
        assert secret not in dump, secret
        assert secret not in logs, secret


def test_panel_id_is_stored_only_as_a_keyed_hash_salted_per_study(tmp_path, clock):
    other = make_study(slug="second-study")
    url = f"sqlite:///{tmp_path / 'panel.sqlite'}"
    app = make_app(url, clock=clock, studies=(SPEC, other))
    for spec in (SPEC, other):
        Walker(probe_client(app), spec, clock).consent(query=f"?PROLIFIC_PID={PANEL_ID}")
    rows = table_rows(app)["participant"]
    dump = dump_database(app)
    assert len(rows) == 2 and PANEL_ID not in dump
    unsalted = hashlib.sha256(PANEL_ID.encode()).hexdigest()
    assert unsalted not in dump
    with app.app_context():
        engine = app.extensions["framelab.engine"]
        with engine.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT p.panel_hash, s.salt FROM participant p JOIN study s ON s.id = p.study_id"
            ).all()
    hashes = [h for h, _salt in found]
    assert len(set(hashes)) == 2 and all(h and len(h) >= 32 for h in hashes)
    # Not the salted hash alone, whose salt is in the same dump (tests/security/test_privacy_attacks.py).
    assert not any(
        hashlib.sha256(f"{salt}:{PANEL_ID}".encode()).hexdigest() in dump for _h, salt in found
    )
    app.extensions["framelab.engine"].dispose()


def _answers_of(app, code: str) -> list:
    engine = app.extensions["framelab.engine"]
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT r.item_id FROM response r JOIN participant p ON p.id = r.participant_id "
            "WHERE p.code = ?",
            (code,),
        ).all()


def test_withdrawal_later_with_the_code_erases_only_that_participants_answers(app, clock):
    leaving = Walker(app.test_client(), SPEC, clock)
    debrief = leaving.complete()
    code = leaving.code
    assert grouped(code) in debrief and "/withdraw" in debrief  # the code is shown to keep
    staying = Walker(app.test_client(), SPEC, clock)
    staying.complete()
    stay_code = staying.code
    kept = _answers_of(app, stay_code)
    assert _answers_of(app, code) and kept
    # Weeks later, in another browser: the withdrawal page and the code.
    later = app.test_client()
    form = later.get("/withdraw").get_data(as_text=True)
    wrong = later.post("/withdraw", data={"csrf_token": csrf_token(form), "code": "x" * 24})
    assert wrong.status_code == 400 and b"no participation with this code" in wrong.data
    done = later.post("/withdraw", data={"csrf_token": csrf_token(form), "code": code})
    assert done.status_code == 200 and b"Your answers have been erased" in done.data
    assert _answers_of(app, code) == [] and _answers_of(app, stay_code) == kept
    with app.extensions["framelab.db"]() as session:
        tidy = export_tidy(session, SPEC.slug)
    # The withdrawn person is no row of the export (DECISIONS rule 7: counts per arm in the
    # codebook); the report's attrition still counts them, without any answer.
    assert list(tidy["status"]) == ["completed"]
    assert tidy[["post_support", "pre_ideology"]].notna().all().all()
    with app.extensions["framelab.db"]() as session:
        counted = export_tidy(session, SPEC.slug, withdrawn=True).set_index("status")
    assert counted.loc["withdrawn", ["post_support", "pre_ideology"]].isna().all()
    assert leaving.client.get(f"/r/{code}").status_code == 302  # their code still leads here
    assert "You have withdrawn" in leaving.page().get_data(as_text=True)


@pytest.fixture
def text_key(monkeypatch) -> str:
    key = generate_text_key()
    monkeypatch.setenv("FRAMELAB_TEXT_KEY", key)
    return key


def _raw_texts(app) -> list[str]:
    engine = app.extensions["framelab.engine"]
    with engine.connect() as conn:
        return [
            t
            for (t,) in conn.exec_driver_sql(
                "SELECT value_text FROM response WHERE value_text IS NOT NULL"
            )
        ]


def test_free_text_is_encrypted_at_rest_and_readable_in_the_export(
    database_url, clock, text_key, monkeypatch
):
    app = make_app(database_url, clock=clock)
    walker = Walker(app.test_client(), SPEC, clock)
    walker.complete(post={"comment": SECRET_TEXT})
    raw = _raw_texts(app)
    assert len(raw) == 1 and raw[0].startswith(PREFIX)
    assert SECRET_TEXT not in dump_database(app) and "detained" not in raw[0]
    with app.extensions["framelab.db"]() as session:
        assert export_tidy(session, SPEC.slug)["post_comment"].tolist() == [SECRET_TEXT]
        assert SECRET_TEXT in export_long(session, SPEC.slug)["value_text"].tolist()
        # Key rotation: a new key first, the old one still decrypts.
        monkeypatch.setenv("FRAMELAB_TEXT_KEY", f"{generate_text_key()},{text_key}")
        assert export_tidy(session, SPEC.slug)["post_comment"].tolist() == [SECRET_TEXT]
        monkeypatch.setenv("FRAMELAB_TEXT_KEY", generate_text_key())
        with pytest.raises(TextKeyError, match="FRAMELAB_TEXT_KEY: this key cannot decrypt"):
            export_tidy(session, SPEC.slug)
        monkeypatch.delenv("FRAMELAB_TEXT_KEY")
        with pytest.raises(TextKeyError, match="set FRAMELAB_TEXT_KEY to the key used"):
            export_tidy(session, SPEC.slug)
    app.extensions["framelab.engine"].dispose()


def test_without_a_key_text_is_stored_as_written(app, clock, monkeypatch):
    monkeypatch.delenv("FRAMELAB_TEXT_KEY", raising=False)
    Walker(app.test_client(), SPEC, clock).complete(post={"comment": SECRET_TEXT})
    assert _raw_texts(app) == [SECRET_TEXT]
    assert decrypt_text(SECRET_TEXT) == SECRET_TEXT


def test_a_malformed_text_key_is_refused_with_the_variable_named(monkeypatch):
    from framelab.crypto import encrypt_text

    monkeypatch.setenv("FRAMELAB_TEXT_KEY", "not-a-key")
    with pytest.raises(TextKeyError, match=r"FRAMELAB_TEXT_KEY: key 1 is not a Fernet key"):
        encrypt_text("hello")


def test_dashboard_shows_small_stratum_and_source_counts_as_fewer_than_the_minimum(app, clock):
    from framelab.clock import now
    from framelab.services import accounts
    from framelab.services.study_versions import get_study
    from tests.studio.conftest import sign_in

    with app.extensions["framelab.db"]() as session:
        accounts.create_user(session, "owner@example.org", "correct horse battery", now=now())
        study_id = get_study(session, SPEC.slug).id
        give_role(session, study_id, "owner@example.org", "owner", now=now())
    for _ in range(3):  # three people from one channel, all in the same stratum
        walker = Walker(app.test_client(), SPEC, clock)
        walker.consent(query="?src=tiny-channel")
        walker.answer("pre", ideology=1)
    owner = app.test_client()
    sign_in(owner, app, "owner@example.org")
    page = owner.get(f"/studio/{SPEC.slug}/dashboard").get_data(as_text=True)
    minimum = SPEC.quality.min_cell_size
    stratum_table = page[page.index("Funnel by stratum") : page.index("Source channels")]
    source_table = page[page.index("Source channels") : page.index('id="results-heading"')]
    # Counts by group move in batches of the minimum cell size (framelab.services.dashboard),
    # so three people are in no group count yet, and never as a small number.
    assert "<td>3</td>" not in stratum_table and "<td>3</td>" not in source_table
    assert "tiny-channel" not in source_table and "Not counted by source yet" in source_table
    assert f"steps of {minimum} participants" in page
    # The whole-study funnel is not a subgroup: it keeps its exact count.
    overall = page[page.index("Funnel: all participants") : page.index("Funnel by arm")]
    assert "<td>3</td>" in overall
