"""Static files cached for a year under hashed URLs, compressed pages only without clear secrets.

Issue 17: every page after the first revalidated the stylesheet and script before
painting (`no-cache`), and nothing was compressed. Compression of pages is limited by
BREACH (framelab.web.compression): a page is compressed only when its code and form
token are masked afresh in every response.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import re
import shutil
import time

from framelab.domain.participant_codes import grouped
from framelab.testing.forms import csrf_token
from framelab.web.assets import IMMUTABLE
from framelab.web.compression import mask, unmask
from tests.factories import make_study, valid_answers
from tests.web.walker import Walker

SPEC = make_study()
GZIP = {"Accept-Encoding": "gzip, deflate, br"}
_CODE_FIELD = re.compile(r'name="code" value="([^"]+)"')


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_name_their_stylesheet_script_and_icon_by_content_hash(client):
    html = client.get("/withdraw").get_data(as_text=True)
    urls = static_urls(html)
    assert {u.split("?")[0] for u in urls} == {
        "/static/framelab.css",
        "/static/framelab.js",
        "/static/favicon.ico",
    }
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{16}$", url), url
        with client.get(url) as response:
            assert response.status_code == 200
            assert (
                response.headers["Cache-Control"]
                == IMMUTABLE
                == ("public, max-age=31536000, immutable")
            )
            # No session on static files, so no Vary: Cookie to defeat the cache.
            assert "Cookie" not in response.headers.get("Vary", "")
            assert "Set-Cookie" not in response.headers


def test_a_static_file_under_another_or_no_hash_is_revalidated_not_kept_a_year(client):
    for url in ("/static/framelab.css", "/static/framelab.css?v=0000000000000000"):
        with client.get(url) as response:
            assert response.headers["Cache-Control"] == "no-cache"
            etag = response.headers["ETag"]
        with client.get(url, headers={"If-None-Match": etag}) as again:
            assert again.status_code == 304


def test_stylesheet_and_script_are_sent_gzip_compressed_to_browsers_that_accept_it(client):
    for name in ("framelab.css", "framelab.js"):
        url = next(u for u in static_urls(client.get("/withdraw").get_data(True)) if name in u)
        with client.get(url) as plain, client.get(url, headers=GZIP) as packed:
            assert "Content-Encoding" not in plain.headers
            assert packed.headers["Content-Encoding"] == "gzip"
            assert "Accept-Encoding" in packed.headers["Vary"]
            assert gzip.decompress(packed.data) == plain.data
            assert len(packed.data) < len(plain.data) / 2
            # A cache must not answer a plain request with the gzip bytes.
            assert packed.headers["ETag"] != plain.headers["ETag"]


def test_favicon_is_served_where_browsers_ask_for_it(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
        assert "no-store" not in response.headers["Cache-Control"]
        assert "max-age" in response.headers["Cache-Control"]


def test_question_pages_are_compressed_with_code_and_token_masked_in_every_response(client, clock):
    walker = Walker(client, SPEC, clock)
    walker.consent()
    code = walker.code
    first = client.get("/p", headers=GZIP)
    second = client.get("/p", headers=GZIP)
    assert first.headers["Content-Encoding"] == "gzip"
    pages = [gzip.decompress(r.data).decode() for r in (first, second)]
    tokens = [csrf_token(page) for page in pages]
    codes = [_CODE_FIELD.search(page)[1] for page in pages]
    # Neither secret is in any page in clear, and each response masks them afresh...
    for page in pages:
        assert code not in page
    assert tokens[0] != tokens[1] and codes[0] != codes[1]
    # ...but they mean the same code and token.
    assert unmask(codes[0]) == unmask(codes[1]) == code
    assert unmask(tokens[0]) == unmask(tokens[1])
    # And the masked form is accepted.
    walker.last = pages[1]
    clock.advance(20)

    response = client.post(
        "/p",
        data={"csrf_token": tokens[1], "code": codes[1], "step": "pre"}
        | valid_answers(SPEC, "pre"),
    )
    assert response.status_code == 302


def test_a_page_showing_the_code_in_clear_and_the_study_link_page_are_never_compressed(
    client, clock
):
    link = client.get(f"/s/{SPEC.slug}", headers=GZIP)
    # The study link's page carries Flask-WTF's token (not masked per response) and
    # echoes the link's parameters.
    assert "Content-Encoding" not in link.headers
    walker = Walker(client, SPEC, clock)
    debrief = walker.complete()
    assert grouped(walker.code) in debrief
    response = client.get("/p", headers=GZIP)
    assert response.status_code == 200 and "Content-Encoding" not in response.headers


def test_masking_is_a_one_time_pad_and_older_unmasked_forms_still_post(client, clock):
    masked = {mask("7KQ2M9XDA1B2C3D4E5F6") for _ in range(50)}
    assert len(masked) == 50 and {unmask(m) for m in masked} == {"7KQ2M9XDA1B2C3D4E5F6"}
    assert unmask("m.!!!") == "" and unmask("plain-value") == "plain-value"
    # A page from before the upgrade has the code and token in clear: still accepted.
    walker = Walker(client, SPEC, clock)
    walker.consent()
    page = client.get("/p").get_data(as_text=True)
    clock.advance(20)

    response = client.post(
        "/p",
        data={
            "csrf_token": unmask(csrf_token(page)),
            "code": walker.code,
            "step": "pre",
        }
        | valid_answers(SPEC, "pre"),
    )
    assert response.status_code == 302


def test_kept_pages_follow_a_stylesheet_changed_on_disk_and_the_policy_allows_its_text(
    app, client, clock, tmp_path
):
    folder = tmp_path / "static"
    shutil.copytree(app.static_folder, folder)
    app.static_folder = str(folder)

    def study_link() -> tuple[str, str]:
        # A newcomer's browser: this one's participant would be led to their page.
        response = app.test_client().get(f"/s/{SPEC.slug}")
        html = response.get_data(as_text=True)
        inline = re.search(r"<style>(.*?)</style>", html, flags=re.S)[1]
        return inline, response.headers["Content-Security-Policy"]

    def allowed(inline: str, policy: str) -> bool:
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        return f"'sha256-{digest}'" in policy

    walker = Walker(client, SPEC, clock)
    inline, policy = study_link()
    assert allowed(inline, policy)
    walker.consent()
    pre = client.get("/p").get_data(as_text=True)
    stylesheet = folder / "framelab.css"
    stylesheet.write_text(stylesheet.read_text() + "\n.changed{color:#000}\n")
    os.utime(stylesheet, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    new_inline, new_policy = study_link()
    assert ".changed{color:#000}" in new_inline and allowed(new_inline, new_policy)
    assert not allowed(inline, new_policy)
    old_url = next(u for u in static_urls(pre) if "framelab.css" in u)
    new_url = next(u for u in static_urls(client.get("/p").get_data(True)) if "framelab.css" in u)
    assert old_url != new_url
    with client.get(new_url) as response:
        assert b".changed" in response.data and response.headers["Cache-Control"] == IMMUTABLE
    with client.get(old_url) as response:
        assert response.headers["Cache-Control"] == "no-cache"


def test_the_studio_script_is_served_from_memory_with_an_etag_and_revalidated(client):
    """The studio's own static files go through framelab.web.assets too (gzip from memory,
    an ETag), not Flask's file wrapper, which the development server left open when a
    browser dropped the request (a ResourceWarning failing a browser test)."""
    first = client.get("/studio/static/studio.js", headers=GZIP)
    assert first.status_code == 200, first.status_code
    assert first.headers["Content-Encoding"] == "gzip"  # only framelab.web.assets does this
    assert "frame-form" in gzip.decompress(first.data).decode()
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["ETag"]
    again = client.get(
        "/studio/static/studio.js", headers={**GZIP, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get("/studio/static/nothing-here.js").status_code == 404


def test_a_served_app_reads_its_static_files_once_a_developing_one_every_time(tmp_path):
    """Every participant page asks for three file versions; outside development and tests
    they are read once (files change with a deploy, which restarts the app)."""
    from flask import Flask

    from framelab.web.assets import asset

    (tmp_path / "framelab.css").write_text("body{}", encoding="utf-8")
    served, developing = Flask("served"), Flask("developing")
    developing.testing = True
    for app in (served, developing):
        app.static_folder = str(tmp_path)
    first = {app.name: asset(app, "framelab.css").version for app in (served, developing)}
    (tmp_path / "framelab.css").write_text("body{color:red}", encoding="utf-8")
    assert asset(served, "framelab.css").version == first["served"]
    assert asset(developing, "framelab.css").version != first["developing"]


def test_a_served_app_keeps_its_page_assets_versions_a_developing_one_looks_again(tmp_path):
    """Part of every participant page's cache key: worked out once for a served app."""
    from flask import Flask

    from framelab.web.assets import page_assets_version

    (tmp_path / "framelab.css").write_text("body{}", encoding="utf-8")
    served, developing = Flask("served"), Flask("developing")
    developing.testing = True
    for app in (served, developing):
        app.static_folder = str(tmp_path)
    first = {app.name: page_assets_version(app) for app in (served, developing)}
    assert first["served"][0] is not None and first["served"][1:] == (None, None)
    (tmp_path / "framelab.css").write_text("body{color:red}", encoding="utf-8")
    assert page_assets_version(served) is first["served"]
    assert page_assets_version(developing)[0] != first["developing"][0]
