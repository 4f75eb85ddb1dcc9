"""App-wide pieces: logging privacy, translations, Markdown sanitizing, templates, serve."""

from __future__ import annotations

import gettext
import logging
import re
import resource
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from framelab.commands.survey import gunicorn_options, participant_links, raise_open_files
from framelab.web.i18n import UI_LANGUAGES
from framelab.web.logs import GUNICORN_ACCESS_FORMAT, WerkzeugAccessFilter, gunicorn_logging_options
from framelab.web.markdown import render_markdown
from tests.factories import make_study

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "framelab" / "translations"
TEMPLATES = ROOT / "framelab" / "web" / "templates"
LANGUAGES = UI_LANGUAGES  # the one list of shipped languages (DECISIONS rule 8)


def catalog(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def werkzeug_record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("werkzeug", logging.INFO, __file__, 1, message, args, None)


ACCESS_LINE = '203.0.113.9 - - [25/Nov/2026 10:00:00] "%s" %s %s\n'


def test_access_log_lines_are_dropped_unless_the_operator_opts_in():
    record = werkzeug_record(ACCESS_LINE, "GET /s/torture-ban HTTP/1.1", "200", "-")
    assert WerkzeugAccessFilter(enabled=False).filter(record) is False


def test_opted_in_access_log_has_no_client_address_or_query_string():
    record = werkzeug_record(
        ACCESS_LINE, "GET /s/torture-ban?PROLIFIC_PID=abc123 HTTP/1.1", "302", "-"
    )
    assert WerkzeugAccessFilter(enabled=True).filter(record) is True
    line = record.getMessage()
    assert "203.0.113.9" not in line and "PROLIFIC_PID" not in line
    assert '"GET /s/torture-ban HTTP/1.1" 302' in line


def test_gunicorn_logs_no_access_by_default_and_never_addresses_or_agents():
    scrubbing = "framelab.web.gunicorn_log.ScrubbingLogger"  # every line scrubbed of people
    assert gunicorn_logging_options({}) == {"accesslog": None, "logger_class": scrubbing}
    opted = gunicorn_logging_options({"FRAMELAB_ACCESS_LOG": "1"})
    assert opted["accesslog"] == "-" and opted["logger_class"] == scrubbing
    for atom in ("%(h)s", "%(a)s", "%(f)s", "%(q)s", "%(r)s"):
        assert atom not in GUNICORN_ACCESS_FORMAT
    options = gunicorn_options("127.0.0.1", 5000, 2)
    assert options["bind"] == "127.0.0.1:5000" and options["accesslog"] is None


def test_serve_holds_a_blasts_open_connections():
    """An SMS blast keeps thousands of phones' connections open between pages (issue 22):
    gunicorn's default of 1,000 per worker left 15% of first pages timing out."""
    options = gunicorn_options("127.0.0.1", 5000, 2)
    assert options["worker_connections"] >= 5_000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        now = raise_open_files(2 * options["worker_connections"])
        assert now == min(2 * options["worker_connections"], hard)
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == now
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_live_server_writes_no_client_address_to_the_log(client, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    client.environ_base["REMOTE_ADDR"] = "198.51.100.23"
    client.get("/s/torture-ban")
    logging.getLogger("werkzeug").info(ACCESS_LINE, "GET /s/torture-ban HTTP/1.1", "200", "-")
    assert "198.51.100.23" not in caplog.text and "203.0.113.9" not in caplog.text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_catalog_translates_every_interface_string_and_keeps_placeholders(lang):
    template = catalog(TRANSLATIONS / "messages.pot")
    translated = catalog(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po")
    wanted = {m.id for m in template if m.id}
    have = {m.id: m.string for m in translated if m.id}
    assert wanted <= set(have), sorted(wanted - set(have))
    for msgid in wanted:
        assert have[msgid], f"{lang}: {msgid!r} is not translated"
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(
            re.findall(r"%\(\w+\)s", have[msgid])
        )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_compiled_catalog_matches_its_po_file(lang):
    folder = TRANSLATIONS / lang / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in catalog(folder / "messages.po"):
        if message.id:
            assert compiled.gettext(message.id) == message.string, (lang, message.id)


def test_every_template_string_is_in_the_catalog_template():
    template = {m.id for m in catalog(TRANSLATIONS / "messages.pot") if m.id}
    used = set()
    for path in TEMPLATES.rglob("*.html"):
        used |= set(re.findall(r'_\("([^"]+)"', path.read_text(encoding="utf-8")))
    assert used <= template, sorted(used - template)


def test_markdown_is_sanitized_and_links_cannot_leak_the_referrer():
    html = str(
        render_markdown(
            "Read **this** [report](https://example.org/r) <script>alert(1)</script>\n\n"
            "[bad](javascript:alert(1)) ![tracker](https://tracker.example/p.gif)\n\n"
            '<img src=x onerror="alert(1)"> <a href="https://x.example" onclick="alert(1)">x</a>'
        )
    )
    assert '<a href="https://example.org/r" rel="noopener noreferrer">report</a>' in html
    assert "<strong>this</strong>" in html
    # Raw HTML is shown as text, never as tags or attributes.
    assert "<script" not in html and "<img" not in html
    assert not re.search(r"<[^>]*\son\w+=", html) and 'href="javascript:' not in html


def test_templates_have_no_inline_scripts_styles_or_event_handlers():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\sstyle=", text), path
        # The one inline style: the stylesheet itself on the study link's page, allowed by
        # its hash in the policy (framelab.web.assets, tests/security/test_headers.py).
        styles = re.findall(r"<style[^<]*</style>", text)
        assert styles in ([], ["<style>{{ inline_css }}</style>"]), path
        assert text.count("<style") == len(styles), path
        assert not re.search(r"\son[a-z]+=", text), path


def test_serve_lists_links_of_open_studies_only(tmp_path, monkeypatch):
    from tests.factories import publish, session_factory_for

    url = f"sqlite:///{tmp_path / 'serve.sqlite'}"
    with session_factory_for(url) as factory, factory() as session:
        publish(session, make_study(), status="live")
        publish(session, make_study(slug="draft-study"), status="draft")
    monkeypatch.setenv("FRAMELAB_DATABASE_URL", url)
    links = participant_links("http://127.0.0.1:5000")
    assert links == ["http://127.0.0.1:5000/s/torture-ban"]
