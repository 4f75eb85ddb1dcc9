"""Languages in the studio: add/remove in one action, the translation view, launch only when
complete, interface strings and register, the translator role, the translator's file."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from html import unescape

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po, write_po
from sqlalchemy.exc import IntegrityError

from framelab.db.migrate import upgrade
from framelab.domain.builder import build_languages
from framelab.domain.builder.label_presets import PRESETS, prefilled_labels
from framelab.domain.builder.translator_files import read_translator_file, texts_csv, texts_po
from framelab.domain.study import StudyError
from framelab.domain.translation import interface_msgids, text_units, translation_gaps
from framelab.services import accounts, study_drafts, study_lifecycle
from framelab.services.study_lifecycle import TranslationIncomplete
from framelab.services.study_versions import get_study
from tests.factories import approve, make_study
from tests.members import give_role
from tests.studio.conftest import NOW, PASSWORD, SLUG
from tests.studio.test_roles import studio_rules
from tests.web.swahili import SWAHILI

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SPEC = make_study()
TRANSLATOR = "translator@example.org"


@pytest.fixture
def session(studio_app):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        yield s


def current(session):
    spec = get_study(session, SLUG).spec
    session.rollback()
    return spec


def save(session, spec) -> None:
    # SQLite sessions begin IMMEDIATE: end the transaction before the app writes.
    study_drafts.update_study(session, SLUG, spec, now=T0)
    session.rollback()


def with_translator(studio_app, client_for):
    from framelab.web.database import EXTENSION_KEY

    with studio_app.extensions[EXTENSION_KEY]() as s:
        accounts.create_user(s, TRANSLATOR, PASSWORD, now=NOW)
        study_id = get_study(s, SLUG).id
        give_role(s, study_id, TRANSLATOR, "translator", now=NOW)
    return client_for(TRANSLATOR)


# ---------------------------------------------------------------- pure edits


def test_adding_a_language_copies_every_text_and_lists_each_as_untranslated():
    added = build_languages.add_language(SPEC, "sw")
    assert added.languages == [*SPEC.languages, "sw"]
    units = text_units(SPEC)
    assert len(units) > 100
    for unit in units:
        assert unit.text(added, "sw") == unit.text(SPEC, "en"), unit.key
    assert added.translation.untranslated["sw"] == [u.key for u in units]
    gaps = translation_gaps(added)
    assert {g.kind for g in gaps if g.lang == "sw"} == {"untranslated", "interface"}
    assert len([g for g in gaps if g.kind == "interface"]) == len(interface_msgids())


def test_adding_a_language_fills_a_presets_answer_labels_in_its_own_wording():
    # support uses the oppose-support preset, which has Portuguese labels.
    preset = PRESETS["oppose_support_7"]
    assert SPEC.item("support").labels.get("en") == list(preset.labels["en"])
    added = build_languages.add_language(SPEC, "pt")
    assert added.item("support").labels.get("pt") == list(preset.labels["pt"])
    keys = [f"items.support.labels.{n}" for n in range(1, 8)]
    listed = added.translation.untranslated["pt"]
    assert not set(keys) & set(listed)
    assert len(listed) == len(text_units(SPEC)) - 7
    assert not [g for g in translation_gaps(added) if g.key in keys]
    assert set(prefilled_labels(added, "pt")) == set(keys)
    # Labels typed by the campaigner (no preset) are copies to translate, as before.
    assert "items.ideology.labels.1" in listed
    assert added.item("ideology").labels.get("pt") == added.item("ideology").labels.get("en")
    # A language the preset has no wording for gets copies too.
    swahili = build_languages.add_language(SPEC, "sw")
    assert set(keys) <= set(swahili.translation.untranslated["sw"])
    assert prefilled_labels(swahili, "sw") == {}


def test_removing_a_language_deletes_its_texts_everywhere_and_undoes_adding_it():
    added = build_languages.add_language(SPEC, "sw")
    assert build_languages.remove_language(added, "sw").content_hash() == SPEC.content_hash()
    without = build_languages.remove_language(SPEC, "fr")
    assert without.languages == ["en", "es", "ar"]
    assert '"fr":' not in without.canonical_json()
    assert without.translation is None


def test_a_single_language_study_written_with_plain_texts_gains_a_language():
    single = build_languages.remove_language(
        build_languages.remove_language(build_languages.remove_language(SPEC, "es"), "fr"), "ar"
    )
    data = single.model_dump(mode="json")
    data["title"] = single.text(single.title, "en")  # plain text, as a one-language file has it
    from framelab.domain.study import study_from_data

    plain = study_from_data(data)
    added = build_languages.add_language(plain, "pt")
    assert added.title.get("pt") == added.title.get("en") == plain.text(plain.title, "en")


def test_the_default_language_and_unknown_codes_are_refused_with_the_reason():
    with pytest.raises(StudyError, match="'en' is the default language"):
        build_languages.remove_language(SPEC, "en")
    with pytest.raises(StudyError, match="'Swahili' is not a language code"):
        build_languages.add_language(SPEC, "Swahili")
    with pytest.raises(StudyError, match="'es' is already a language"):
        build_languages.add_language(SPEC, "es")


def test_the_translation_view_says_what_each_text_is_and_shows_preset_labels_as_filled(
    client_for,
):
    owner = client_for("owner@example.org")
    owner.post(f"/studio/{SLUG}/languages/add", data={"lang": "pt"})
    view = unescape(owner.get(f"/studio/{SLUG}/translate/pt").get_data(as_text=True))
    rows = re.findall(
        r'<tr id="row-\d+" data-key="([^"]+)"[^>]*>\s*<th scope="row"><label[^>]*>([^<]+)<', view
    )
    assert len(rows) == len(text_units(SPEC))
    words = dict(rows)
    assert words["title"] == "Study title"
    assert words["arms.care.frame.body"] == "Care (harm) – message body"
    assert words["items.age_group.options.2.label"] == "Question 'age_group' – option 2"
    # Keys are for machines only: never a label a person reads.
    assert all(key != text and "items." not in text for key, text in rows)
    assert "<code>items." not in view
    # The preset's Portuguese labels: filled in, marked with their source, not missing.
    prefilled = re.findall(r'data-key="items\.support\.labels\.\d" class="prefilled"', view)
    assert len(prefilled) == 7
    assert view.count("From a preset: “Oppose – support, 7 points”") == 7
    assert "7 answer labels were filled in from their preset" in view
    assert "Sou totalmente a favor" in view


def test_saving_translations_clears_only_what_was_translated_or_kept():
    added = build_languages.add_language(SPEC, "sw")
    saved = build_languages.save_translation(
        added,
        "sw",
        {"title": "Hakuna visingizio", "items.ideology.labels.1": "Kushoto kabisa"},
        keep=["items.age_group.options.1.label"],
    )
    assert saved.title.get("sw") == "Hakuna visingizio"
    assert saved.item("ideology").labels.get("sw")[0] == "Kushoto kabisa"
    assert saved.item("ideology").labels.get("sw")[1:] == SPEC.item("ideology").labels.get("en")[1:]
    left = saved.translation.untranslated["sw"]
    assert "title" not in left and "items.ideology.labels.1" not in left
    assert "items.age_group.options.1.label" not in left
    assert "consent" in left and len(left) == len(text_units(SPEC)) - 3
    with pytest.raises(StudyError) as error:
        build_languages.save_translation(added, "sw", {"title": " ", "nope": "x"})
    assert ("title", "expected a text, got an empty one") in error.value.errors
    assert ("nope", "is not a text of this study") in error.value.errors


# ---------------------------------------------------------------- launch


def test_a_study_with_an_untranslated_language_cannot_go_live_and_says_what_is_missing(session):
    spec = build_languages.add_language(current(session), "sw")
    study_drafts.update_study(session, SLUG, spec, now=T0)
    approve(session, SLUG, now=T0)
    with pytest.raises(TranslationIncomplete) as refused:
        study_lifecycle.change_status(session, SLUG, "live", now=T0)
    message = str(refused.value)
    assert message.startswith("translation: torture-ban cannot go live")
    assert (
        f"sw ({len(text_units(SPEC)) + len(interface_msgids())}: title, consent, debrief" in message
    )
    assert get_study(session, SLUG).status == "draft"
    # Translated (texts kept as they are, all interface strings supplied): it launches.
    keys = [u.key for u in text_units(spec)]
    spec = build_languages.save_translation(spec, "sw", {}, keep=keys)
    spec = build_languages.save_interface(spec, "sw", SWAHILI)
    study_drafts.update_study(session, SLUG, spec, now=T0)
    assert translation_gaps(current(session)) == []
    approve(session, SLUG, now=T0)
    assert study_lifecycle.change_status(session, SLUG, "live", now=T0).status == "live"


def test_the_status_page_explains_an_incomplete_translation_in_one_message(
    studio_app, client_for, session
):
    save(session, build_languages.add_language(current(session), "pt"))
    owner = client_for("owner@example.org")
    response = owner.post(
        f"/studio/{SLUG}/status/live", data={"confirm_launch": "yes"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "cannot go live until every language is complete" in page
    assert "pt (" in page and "The Languages page lists them all." in page
    assert get_study(session, SLUG).status == "draft"


# ---------------------------------------------------------------- the views


def test_add_translate_and_remove_a_language_through_the_studio(studio_app, client_for, session):
    owner = client_for("owner@example.org")
    added = owner.post(f"/studio/{SLUG}/languages/add", data={"lang": "pt"})
    assert added.status_code == 302 and added.headers["Location"].endswith("/translate/pt")
    view = owner.get(f"/studio/{SLUG}/translate/pt").get_data(as_text=True)
    count = len(text_units(SPEC)) - 7  # the support question's preset labels are filled in
    assert f"{count} texts to translate" in view
    assert view.count("Not translated yet") == count
    assert SPEC.text(SPEC.title, "en") in view  # the default text beside the input
    units = text_units(SPEC)
    form = {f"t:{u.key}": u.text(SPEC, "en") for u in units}
    form["t:title"] = "Sem exceções: uma lei contra a tortura"
    form["keep:items.age_group.options.1.label"] = "1"
    saved = owner.post(f"/studio/{SLUG}/translate/pt", data=form)
    assert saved.status_code == 302
    spec = current(session)
    assert spec.title.get("pt") == "Sem exceções: uma lei contra a tortura"
    assert len(spec.translation.untranslated["pt"]) == count - 2
    view = owner.get(f"/studio/{SLUG}/translate/pt").get_data(as_text=True)
    assert f"{count - 2} texts to translate" in view
    # The default texts left as they were count as the same as English, not as translated.
    assert "Same as English" in view
    # An empty text is refused and nothing is saved.
    refused = owner.post(f"/studio/{SLUG}/translate/pt", data={**form, "t:consent": ""})
    assert refused.status_code == 200 and "expected a text, got an empty one" in (
        refused.get_data(as_text=True)
    )
    assert current(session).consent.get("pt") == SPEC.consent.get("en")
    # Removing needs the code typed; then every pt text is gone.
    owner.post(f"/studio/{SLUG}/languages/pt/remove", data={"confirm": "p"})
    assert "pt" in current(session).languages
    owner.post(f"/studio/{SLUG}/languages/pt/remove", data={"confirm": "pt"})
    assert current(session).content_hash() == SPEC.content_hash()


def test_the_interface_page_supplies_strings_for_an_unshipped_language_and_picks_a_register(
    studio_app, client_for, session
):
    owner = client_for("owner@example.org")
    owner.post(f"/studio/{SLUG}/languages/add", data={"lang": "sw"})
    page = owner.get(f"/studio/{SLUG}/translate/sw/interface").get_data(as_text=True)
    assert f"{len(interface_msgids())} still to translate" in page
    form = {f"s:{i}": SWAHILI[m] for i, m in enumerate(interface_msgids())}
    assert owner.post(f"/studio/{SLUG}/translate/sw/interface", data=form).status_code == 302
    assert current(session).translation.interface["sw"] == SWAHILI
    assert "All supplied." in owner.get(f"/studio/{SLUG}/translate/sw/interface").get_data(
        as_text=True
    )
    # Spanish: the catalog's own text is shown; the study picks tú and overrides one string.
    page = owner.get(f"/studio/{SLUG}/translate/es/interface").get_data(as_text=True)
    assert "Continuar" in page and 'value="informal"' in page
    index = interface_msgids().index("Continue")
    owner.post(
        f"/studio/{SLUG}/translate/es/interface",
        data={"register": "informal", f"s:{index}": "Seguir"},
    )
    notes = current(session).translation
    assert notes.registers == {"es": "informal"} and notes.interface["es"] == {"Continue": "Seguir"}
    preview = owner.get(f"/studio/{SLUG}/preview/care/es/message").get_data(as_text=True)
    assert ">Seguir</button>" in preview and "Lee este mensaje con atención" in preview


# ---------------------------------------------------------------- translator role


def test_a_translator_edits_texts_and_nothing_else(studio_app, client_for, session):
    translator = with_translator(studio_app, client_for)
    assert translator.get(f"/studio/{SLUG}/languages").status_code == 200
    form = {f"t:{u.key}": u.text(SPEC, "es") for u in text_units(SPEC)}
    form["t:title"] = "Sin excepciones: ley contra la tortura"
    assert translator.post(f"/studio/{SLUG}/translate/es", data=form).status_code == 302
    assert current(session).title.get("es") == "Sin excepciones: ley contra la tortura"
    before = current(session).content_hash()
    refused = {
        "design": translator.post(f"/studio/{SLUG}/design", data={"seed": "1"}),
        "plan": translator.post(f"/studio/{SLUG}/plan", data={"alpha": "0.1"}),
        "plan lock": translator.post(f"/studio/{SLUG}/plan/lock"),
        "status": translator.post(f"/studio/{SLUG}/status/pilot"),
        "add language": translator.post(f"/studio/{SLUG}/languages/add", data={"lang": "pt"}),
        "remove language": translator.post(
            f"/studio/{SLUG}/languages/fr/remove", data={"confirm": "fr"}
        ),
        "study file": translator.post(f"/studio/{SLUG}/yaml", data={"text": "slug: x"}),
    }
    for what, response in refused.items():
        assert response.status_code == 403, what
    assert current(session).content_hash() == before
    assert get_study(session, SLUG).status == "draft"


def test_the_translator_role_is_allowed_exactly_what_its_permissions_say(studio_app, client_for):
    translator = with_translator(studio_app, client_for)
    allowed = {"view", "translate"}
    for endpoint, method, url, perm in studio_rules(studio_app):
        response = translator.open(url, method=method, data={})
        if perm in ("login", "admin"):
            continue
        if perm in allowed:
            assert response.status_code not in (403, 404), (endpoint, method)
        else:
            assert response.status_code == 403, (endpoint, method, response.status_code)


def test_the_translator_role_migration_keeps_members_and_allows_the_new_role(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "s003")  # the database of the release before the translator role
    engine = sa.create_engine(url)
    # Rows written in that release's schema (today's models have columns it lacks).
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO study (id, slug, title, status, salt, created_at, updated_at) "
                "VALUES (1, :slug, 'T', 'live', 'salt', :now, :now)"
            ),
            {"slug": SLUG, "now": NOW.replace(tzinfo=None)},
        )
        for user_id, email in ((1, "owner@example.org"), (2, TRANSLATOR)):
            conn.execute(
                sa.text(
                    "INSERT INTO account (id, email, password_hash, is_admin, is_active, "
                    "created_at) VALUES (:id, :email, 'x', 0, 1, :now)"
                ),
                {"id": user_id, "email": email, "now": NOW.replace(tzinfo=None)},
            )
        member = sa.text(
            "INSERT INTO study_membership (user_id, study_id, role, created_at) "
            "VALUES (:user, 1, :role, :now)"
        )
        conn.execute(member, {"user": 1, "role": "owner", "now": NOW.replace(tzinfo=None)})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(member, {"user": 2, "role": "translator", "now": NOW.replace(tzinfo=None)})
    assert upgrade(url) >= "s004"  # head; later revisions build on this one
    with session_for_existing(engine) as s:
        give_role(s, 1, TRANSLATOR, "translator", now=NOW)
        roles = {m.email: m.role for m in accounts.list_members(s, 1)}
        assert roles == {"owner@example.org": "owner", TRANSLATOR: "translator"}
    engine.dispose()


def session_for_existing(engine):
    from framelab.db.session import make_session_factory

    return make_session_factory(engine)()


# ---------------------------------------------------------------- translator's file


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_one_row_per_text_and_language_with_the_default_text_beside_it():
    spec = build_languages.add_language(SPEC, "sw")
    rows = rows_of(texts_csv(spec))
    texts = len(text_units(SPEC))
    # es, fr, ar: every text; sw: every text (empty: untranslated) and every interface string.
    assert len(rows) == 4 * texts + len(interface_msgids())
    title_es = next(r for r in rows if r["key"] == "title" and r["language"] == "es")
    assert title_es == {
        "key": "title",
        "language": "es",
        "default_text": SPEC.text(SPEC.title, "en"),
        "text": SPEC.text(SPEC.title, "es"),
    }
    title_sw = next(r for r in rows if r["key"] == "title" and r["language"] == "sw")
    assert title_sw["text"] == ""
    assert {
        r["key"] for r in rows if r["language"] == "sw" and r["key"].startswith("interface:")
    } == {f"interface:{m}" for m in interface_msgids()}


def test_importing_a_translated_csv_applies_good_rows_and_reports_every_other_one(
    studio_app, client_for, session
):
    owner = client_for("owner@example.org")
    owner.post(f"/studio/{SLUG}/languages/add", data={"lang": "sw"})
    exported = owner.get(f"/studio/{SLUG}/translations.csv").get_data(as_text=True)
    rows = rows_of(exported)
    for row in rows:
        if row["language"] == "sw":
            row["text"] = (
                SWAHILI[row["default_text"]]
                if row["key"].startswith("interface:")
                else f"Kiswahili: {row['default_text']}"
            )
    rows += [
        {"key": "no.such.text", "language": "sw", "default_text": "", "text": "x"},
        {"key": "title", "language": "de", "default_text": "", "text": "Keine Ausnahmen"},
        {
            "key": "interface:Step %(index)s of %(total)s",
            "language": "sw",
            "default_text": "",
            "text": "Hatua",
        },
        {"key": "consent", "language": "es", "default_text": "", "text": ""},
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["key", "language", "default_text", "text"])
    writer.writeheader()
    writer.writerows(rows)
    response = owner.post(
        f"/studio/{SLUG}/translations/import",
        data={"file": (io.BytesIO(out.getvalue().encode()), "sw.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "3 rows could not be used" in page
    assert "no.such.text: not a text of this study" in page
    assert "title: &#39;de&#39; is not a language of the study" in page
    assert "needs the placeholders %(index)s, %(total)s" in page
    texts = len(text_units(SPEC))
    applied = texts + len(interface_msgids())
    assert f"{applied} texts saved; {3 * texts} rows already matched the study" in page
    assert "1 empty row left the study's text as it was" in page
    spec = current(session)
    assert spec.title.get("sw") == "Kiswahili: " + SPEC.text(SPEC.title, "en")
    assert spec.consent.get("es") == SPEC.consent.get("es")  # the empty row lost nothing
    assert (
        spec.translation.interface["sw"]["Step %(index)s of %(total)s"]
        == SWAHILI["Step %(index)s of %(total)s"]
    )
    # The file's good row for the same string was used; nothing is left to translate.
    assert translation_gaps(spec) == []


def test_a_po_file_round_trips_through_a_translation_tool():
    spec = build_languages.add_language(SPEC, "pt")
    catalog = read_po(io.BytesIO(texts_po(spec, "pt")))
    assert str(catalog.locale) == "pt"
    by_key = {m.context: m for m in catalog if m.id}
    assert by_key["title"].id == SPEC.text(SPEC.title, "en") and by_key["title"].string == ""
    by_key["title"].string = "Sem exceções"
    by_key["items.support.text"].string = "Você apoia uma lei que proíba toda tortura?"
    out = io.BytesIO()
    write_po(out, catalog)
    found = read_translator_file(spec, out.getvalue(), "pt.po")
    assert found.texts == {
        "pt": {
            "title": "Sem exceções",
            "items.support.text": "Você apoia uma lei que proíba toda tortura?",
        }
    }
    # The support question's preset labels come filled in (the preset's Portuguese).
    assert found.rejected == [] and found.empty == len(text_units(SPEC)) - 2 - 7
    assert found.same == 7
    saved = build_languages.save_translation(spec, "pt", found.texts["pt"])
    assert saved.title.get("pt") == "Sem exceções"
    assert "title" not in saved.translation.untranslated["pt"]


def test_an_unreadable_file_is_refused_whole_with_the_reason():
    with pytest.raises(ValueError, match="expected a CSV whose first row is key, language"):
        read_translator_file(SPEC, b"a,b\n1,2\n", "x.csv")
    with pytest.raises(ValueError, match=r"expected a \.csv or \.po file"):
        read_translator_file(SPEC, b"", "x.xlsx")
    assert re.search("not a readable PO file", _po_error())


def _po_error() -> str:
    try:
        read_translator_file(SPEC, b'garbage "\n', "x.po", "es")
    except ValueError as exc:
        return str(exc)
    return ""


def test_a_live_study_shows_its_locked_texts_read_only_before_anyone_edits(
    studio_app, client_for, session
):
    approve(session, SLUG, now=T0)
    study_lifecycle.change_status(session, SLUG, "live", now=T0)
    session.rollback()
    owner = client_for("owner@example.org")
    page = owner.get(f"/studio/{SLUG}/translate/es").get_data(as_text=True)
    assert "locked because the study has gone live" in page
    title = re.search(r'<input id="t-1" name="t:title"[^>]*>', page).group(0)
    assert "readonly" not in title
    item = re.search(r'<(input|textarea)[^>]*name="t:items.support.text"[^>]*>', page).group(0)
    assert "readonly" in item and "locked-note" in item
    # A locked text changed anyway (a hand-made request) is refused with the reason.
    form = {f"t:{u.key}": u.text(SPEC, "es") for u in text_units(SPEC)}
    form["t:items.support.text"] = "¿Otra pregunta?"
    refused = owner.post(f"/studio/{SLUG}/translate/es", data=form).get_data(as_text=True)
    assert "locked because the study has gone live" in refused
    assert current(session).item("support").text.get("es") == SPEC.item("support").text.get("es")
