"""Nothing lost mid-page (issue 21): a page's valid answers kept as a draft until it is stored.

A post that fails validation stores no answer (all of a page or none), but its valid
answers are kept, so a reload, or a return with the participant code on another phone
days later, shows them again. Submitting the page stores all of it and deletes the
draft in the same transaction; withdrawing or erasing the study deletes drafts; exports
never hold them; the next failed post replaces the draft.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from framelab.db.direct import Direct
from framelab.db.drafts import PageDraft
from framelab.db.models import Response, Study
from framelab.services.erasure import erase_studies
from framelab.services.export import export_long, export_tidy
from framelab.testing.forms import csrf_token, page_step
from tests.factories import make_study, small_study, valid_answers
from tests.web.conftest import make_app
from tests.web.test_participant_flow import participant, rows
from tests.web.walker import Walker

SPEC = make_study()


def checked(page: str, item: str) -> list[str]:
    """The values of `item` that the page shows selected."""
    return re.findall(rf'name="{item}" value="(\d+)" checked', page)


def drafts(app) -> list[tuple[str, dict]]:
    return [(d.step, d.answers) for d in rows(app, PageDraft)]


def at(app, clock, step: str) -> Walker:
    walker = Walker(app.test_client(), SPEC, clock)
    walker.consent()
    for earlier in ("pre", "message", "post"):
        if earlier == step:
            break
        assert walker.answer(earlier).status_code == 302
    walker.page()
    assert page_step(walker.last) == step
    return walker


def fail_pre(walker: Walker, **answers: str):
    """Post the pre page with `answers` only (so it fails): the page comes back."""
    response = walker.post("pre", answers)
    assert response.status_code == 200 and page_step(walker.last) == "pre"
    assert 'role="alert"' in walker.last
    return response


def test_a_failed_post_then_a_reload_shows_the_valid_answers_only(app_any_db, clock):
    walker = at(app_any_db, clock, "pre")
    fail_pre(walker, ideology="4", age_group="2", support="9", care_1="x")
    page = walker.page().get_data(as_text=True)
    assert page_step(page) == "pre" and 'role="alert"' not in page
    assert checked(page, "ideology") == ["4"] and checked(page, "age_group") == ["2"]
    # The invalid answers (out of range, not a number) are not kept.
    assert checked(page, "support") == [] and checked(page, "care_1") == []
    assert rows(app_any_db, Response) == []
    ((step, stored),) = drafts(app_any_db)
    assert step == "pre" and '"support"' not in stored and '"care_1"' not in stored
    # Another language shows the same draft.
    walker.client.get("/p?lang=fr")
    again = walker.page().get_data(as_text=True)
    assert 'lang="fr"' in again and checked(again, "ideology") == ["4"]


def test_the_code_resumes_the_draft_on_another_phone_days_later(app_any_db, clock):
    walker = at(app_any_db, clock, "post")
    fail_pre_like = {"support": "5", "comment": "Mon avis : oui", "manip_value": "99"}
    assert walker.post("post", fail_pre_like).status_code == 200
    clock.advance(3 * 86400)
    phone = app_any_db.test_client()
    assert phone.post("/r", data={"code": walker.code}).status_code == 302
    page = phone.get("/p").get_data(as_text=True)
    assert page_step(page) == "post"
    assert checked(page, "support") == ["5"] and checked(page, "manip_value") == []
    assert ">Mon avis : oui</textarea>" in page


def test_submitting_stores_the_whole_page_and_deletes_its_draft(app_any_db, clock):
    walker = at(app_any_db, clock, "pre")
    fail_pre(walker, ideology="4")
    assert len(drafts(app_any_db)) == 1
    walker.page()
    answers = valid_answers(SPEC, "pre", ideology="5")
    assert walker.post("pre", answers).status_code == 302
    assert drafts(app_any_db) == []
    stored = {r.item_id: r.value_int for r in rows(app_any_db, Response, phase="pre")}
    assert stored == {k: int(v) for k, v in answers.items()}
    assert participant(app_any_db, walker.code).step == "message"


def test_the_next_failed_post_replaces_the_draft(app_any_db, clock):
    walker = at(app_any_db, clock, "pre")
    fail_pre(walker, ideology="4", age_group="2")
    fail_pre(walker, age_group="3")
    page = walker.page().get_data(as_text=True)
    assert checked(page, "ideology") == [] and checked(page, "age_group") == ["3"]
    # A failed post with nothing valid leaves no draft at all.
    fail_pre(walker, ideology="12")
    assert drafts(app_any_db) == []
    assert checked(walker.page().get_data(as_text=True), "ideology") == []


def test_a_stale_post_keeps_no_draft(app, clock):
    walker = at(app, clock, "pre")
    # A post for a page the participant is not on (a form left open in another tab).
    walker.post("post", {"support": "3"})
    assert drafts(app) == []


def test_withdrawing_erases_the_draft(app, clock):
    walker = at(app, clock, "pre")
    fail_pre(walker, ideology="4")
    page = walker.page().get_data(as_text=True)
    form = {"code": walker.code, "csrf_token": csrf_token(page), "confirm": "yes"}
    response = walker.client.post("/p/withdraw", data=form)
    assert "Your answers have been erased" in response.get_data(as_text=True)
    assert drafts(app) == []


def test_erasing_the_study_erases_drafts(app, clock):
    walker = at(app, clock, "pre")
    fail_pre(walker, ideology="4")
    with app.extensions["framelab.db"]() as session:
        study = session.scalar(sa.select(Study).where(Study.slug == SPEC.slug))
        (tombstone,) = erase_studies(session, [study], now=clock(), reason="erase-study")
    assert tombstone.counts["page_draft"] == 1 and drafts(app) == []


def test_drafts_are_never_exported(app_any_db, clock):
    walker = at(app_any_db, clock, "pre")
    fail_pre(walker, ideology="4", age_group="2")
    with app_any_db.extensions["framelab.db"]() as session:
        long = export_long(session, SPEC.slug)
        tidy = export_tidy(session, SPEC.slug)
    assert len(long) == 0
    assert tidy.filter(like="ideology").isna().all().all()
    assert tidy.filter(like="age_group").isna().all().all()


def test_text_in_a_draft_is_encrypted_at_rest_with_the_text_key(app, clock, monkeypatch):
    monkeypatch.setenv("FRAMELAB_TEXT_KEY", Fernet.generate_key().decode())
    walker = at(app, clock, "post")
    walker.post("post", {"support": "5", "comment": "my private words"})
    ((_, stored),) = drafts(app)
    assert stored.startswith("fl1:") and "private" not in stored
    assert ">my private words</textarea>" in walker.page().get_data(as_text=True)
    # A draft the server can no longer read is no draft: the page is still shown.
    monkeypatch.setenv("FRAMELAB_TEXT_KEY", Fernet.generate_key().decode())
    page = walker.page()
    assert page.status_code == 200 and "my private words" not in page.get_data(as_text=True)


def test_hostile_posts_keep_nothing_invalid_and_never_fail(app_any_db, clock):
    walker = at(app_any_db, clock, "post")
    token = csrf_token(walker.last)
    huge = {"csrf_token": token, "step": "post", "comment": "x" * 5_000_000}
    assert walker.client.post("/p", data=huge).status_code == 413
    many = {f"field{i}": "1" for i in range(900)}
    too_long = "y" * (SPEC.item("comment").text_max_length + 1)
    walker.post("post", {**many, "comment": too_long, "support": "3", "support ": "4"})
    assert walker.last.count('role="alert"') == 1
    ((_, stored),) = drafts(app_any_db)
    assert stored == '{"support":"3"}'
    # A draft that does not read as answers (written by hand, or damaged) shows nothing.
    for damaged in ("{not json", "[1, 2]", '{"support": 3, "ideology": "4"}', '{"support": "77"}'):
        with app_any_db.extensions["framelab.engine"].begin() as conn:
            conn.execute(sa.update(PageDraft).values(answers=damaged))
        page = walker.page()
        assert page.status_code == 200 and checked(page.get_data(as_text=True), "support") == []


@pytest.fixture
def direct_statements(monkeypatch) -> list[str]:
    """The SQL of every statement the participant hot path runs."""
    seen: list[str] = []
    run = Direct._run

    def counted(direct, statement, params, columns=None):
        seen.append(statement.compiled(direct.dialect, columns).sql)
        return run(direct, statement, params, columns)

    monkeypatch.setattr(Direct, "_run", counted)
    return seen


def test_showing_a_page_is_one_statement_with_or_without_a_draft(
    app_any_db, clock, direct_statements
):
    walker = at(app_any_db, clock, "pre")
    walker.page()
    direct_statements.clear()
    plain = walker.page().get_data(as_text=True)
    assert len(direct_statements) == 1 and checked(plain, "ideology") == []
    fail_pre(walker, ideology="4")
    walker.page()
    direct_statements.clear()
    drafted = walker.page().get_data(as_text=True)
    assert len(direct_statements) == 1 and checked(drafted, "ideology") == ["4"]
    # A failed post with nothing to keep and no draft to replace writes nothing.
    fail_pre(walker, ideology="12")
    direct_statements.clear()
    fail_pre(walker, ideology="12")
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
                   for s in direct_statements)  # fmt: skip


# ---------------------------------------------------------------- the page's script


def beacon(walker: Walker, step: str, answers: dict[str, str], **form: str):
    """What the page's script sends as the page is hidden: the page's own form, multipart."""
    page = walker.last
    code = re.search(r'name="code" value="([^"]+)"', page)[1]
    data = {"csrf_token": csrf_token(page), "code": code, "step": step, **answers, **form}
    return walker.client.post("/p/draft", data=data, content_type="multipart/form-data")


def test_the_page_sent_as_it_is_left_keeps_its_valid_answers(app_any_db, clock):
    walker = at(app_any_db, clock, "pre")
    response = beacon(walker, "pre", {"ideology": "4", "age_group": "77"})
    assert response.status_code == 204 and response.data == b""
    page = walker.page().get_data(as_text=True)
    assert checked(page, "ideology") == ["4"] and checked(page, "age_group") == []
    assert rows(app_any_db, Response) == []
    # Cleared before leaving: the draft goes; a page the participant is not on keeps none.
    assert beacon(walker, "pre", {"ideology": ""}).status_code == 204
    assert drafts(app_any_db) == []
    assert beacon(walker, "post", {"support": "3"}).status_code == 204
    assert beacon(walker, "consent", {"consent": "yes"}).status_code == 204
    assert drafts(app_any_db) == []
    assert participant(app_any_db, walker.code).step == "pre"


def test_the_draft_address_takes_only_the_pages_own_form(app, clock):
    walker = at(app, clock, "pre")
    forged = beacon(walker, "pre", {"ideology": "4"}, csrf_token="forged")
    assert forged.status_code == 400
    walker.client.delete_cookie("p", path="/p")
    nobody = walker.client.post("/p/draft", data={"step": "pre", "ideology": "4"})
    assert nobody.status_code == 400
    assert walker.client.get("/p/draft").status_code in (302, 405)
    # A body over the limit (sent as bytes: the client would spool a dict to a file).
    code = re.search(r'name="code" value="([^"]+)"', walker.last)[1]
    parts = {"csrf_token": csrf_token(walker.last), "code": code, "step": "pre"}
    parts["ideology"] = "4" + " " * 5_000_000
    body = "".join(
        f'--b\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in parts.items()
    )
    huge = walker.client.post(
        "/p/draft",
        data=(body + "--b--\r\n").encode(),
        content_type="multipart/form-data; boundary=b",
    )
    assert huge.status_code == 413
    assert drafts(app) == []


def test_a_screened_out_participant_keeps_no_draft(tmp_path, clock):
    spec = small_study(
        screener={"items": ["ideology"], "screen_out": {"item": "ideology", "in": [3]}}
    )
    app = make_app(f"sqlite:///{tmp_path / 'screen.sqlite'}", clock=clock, studies=(spec,))
    try:
        walker = Walker(app.test_client(), spec, clock)
        walker.consent()
        walker.page()
        assert page_step(walker.last) == "screener"
        assert beacon(walker, "screener", {"ideology": "3"}).status_code == 204
        assert checked(walker.page().get_data(as_text=True), "ideology") == ["3"]
        # Screened out by the answer: the page says its answers are not kept, nor is a draft.
        assert walker.post("screener", {"ideology": "3"}).status_code == 302
        assert participant(app, walker.code).step == "ineligible"
        assert drafts(app) == [] and rows(app, Response) == []
    finally:
        app.extensions["framelab.engine"].dispose()
