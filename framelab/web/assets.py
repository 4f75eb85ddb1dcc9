"""The app's static files: content-hashed URLs, cached for a year, sent compressed (issue 17).

`url_for('static', filename=...)` gets `?v=<hash of the file's content>`, so a page
names the exact version it was written for. A request carrying the file's current hash
is answered `Cache-Control: public, max-age=31536000, immutable`: a phone fetches the
stylesheet and script once and never asks again, so no later page waits for a
revalidation round trip before painting. A request with another or no hash (an old
page, a typed address) is answered `no-cache`, so it is revalidated against the ETag.

Static files hold no secret and echo nothing, so they are sent gzip-compressed to any
browser that accepts it (compressed once per file version, kept in memory; the folder
holds a few kilobytes). `/favicon.ico` is the same icon (framelab.web.participant.views_pages).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app, request, send_from_directory
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

STATIC_ENDPOINT = "static"
VERSION_ARG = "v"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Larger files (none today) are left to Flask's own static view.
MAX_CACHED_BYTES = 256 * 1024
# Types worth compressing (an .ico holding a PNG is already compressed).
COMPRESSIBLE = ("text/", "application/javascript", "image/svg+xml", "application/json")
_CACHE = "framelab.assets"


@dataclass(frozen=True)
class Asset:
    """One static file as served: its content hash, bytes, gzip bytes (if smaller) and type."""

    version: str
    body: bytes
    gzipped: bytes | None
    mimetype: str
    # The CSP source that allows this file's text inlined (`'sha256-…'`).
    source_hash: str


def _load(path: Path) -> Asset:
    body = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    gzipped = None
    if mimetype.startswith(COMPRESSIBLE):
        packed = gzip.compress(body, compresslevel=9, mtime=0)
        gzipped = packed if len(packed) < len(body) else None
    digest = hashlib.sha256(body)
    return Asset(
        version=digest.hexdigest()[:16],
        body=body,
        gzipped=gzipped,
        mimetype=mimetype,
        source_hash=f"'sha256-{base64.b64encode(digest.digest()).decode()}'",
    )


def asset(app: Flask, filename: str, folder: str | None = None) -> Asset | None:
    """The static file `filename` (of `folder`, else the app's) as served now, or None
    when it is missing or large."""
    folder = folder or app.static_folder
    joined = safe_join(folder, filename) if folder else None
    if joined is None:
        return None
    cache: dict[str, tuple[tuple[int, int], Asset]] = app.extensions.setdefault(_CACHE, {})
    cached = cache.get(joined)
    if cached is not None and not _files_may_change(app):
        # Every participant page asks for three versions: a served app's files change
        # only with a deploy, which restarts it, so they are read once (like templates).
        return cached[1]
    path = Path(joined)
    try:
        found = path.stat()
    except OSError:
        return None
    if not path.is_file() or found.st_size > MAX_CACHED_BYTES:
        return None
    stamp = (found.st_mtime_ns, found.st_size)
    if cached is None or cached[0] != stamp:
        cached = (stamp, _load(path))
        cache[joined] = cached
    return cached[1]


def _files_may_change(app: Flask) -> bool:
    """Whether static files are looked at again on every use: while developing or testing,
    or when templates are reloaded too."""
    return app.debug or app.testing or bool(app.jinja_env.auto_reload)


INLINE_STYLESHEET = "framelab.css"


def inline_stylesheet(app: Flask) -> str:
    """The stylesheet's text, for the first page of a visit to carry in a <style> element.

    The study link's page inlines it (one round trip less before the first paint on a
    slow link) and prefetches the hashed file for the pages after it.
    """
    found = asset(app, INLINE_STYLESHEET)
    return found.body.decode("utf-8") if found is not None else ""


def stylesheet_source_hash(app: Flask) -> str | None:
    """The CSP source (`'sha256-…'`) that allows exactly the inlined stylesheet."""
    found = asset(app, INLINE_STYLESHEET)
    return found.source_hash if found is not None else None


PAGE_ASSETS = ("framelab.css", "framelab.js", "favicon.ico")
_PAGE_ASSETS_VERSION = "framelab.page_assets_version"


def page_assets_version(app: Flask) -> tuple[str | None, ...]:
    """The versions of the files a participant page names or carries: part of its cache key.

    A page drawn once and kept names its stylesheet, script and icon by hash (and the
    study link's page carries the stylesheet itself): a file changed on disk must not
    leave kept pages naming, or carrying, the old one.
    """
    kept = app.extensions.get(_PAGE_ASSETS_VERSION)
    if kept is not None and not _files_may_change(app):
        return kept  # a served app's files change only with a deploy (see `asset`)
    versions = tuple(
        found.version if (found := asset(app, name)) is not None else None for name in PAGE_ASSETS
    )
    app.extensions[_PAGE_ASSETS_VERSION] = versions
    return versions


def _hashed_url(endpoint: str, values: dict[str, Any]) -> None:
    # url_defaults hook: every url_for('static', filename=...) names the file's version.
    if endpoint != STATIC_ENDPOINT or VERSION_ARG in values or "filename" not in values:
        return
    found = asset(current_app, values["filename"])
    if found is not None:
        values[VERSION_ARG] = found.version


def serve(
    filename: str, *, cache_control: str | None = None, folder: str | None = None
) -> Response:
    """The static file `filename` (of `folder`, else the app's static folder): immutable
    under its current hash, compressed when accepted.

    Served from memory, so no file stays open when a browser drops the request (the
    development server then left Flask's file wrapper unclosed: a ResourceWarning).
    """
    app = current_app
    found = asset(app, filename, folder)
    if found is None:
        if folder is not None:
            return send_from_directory(folder, filename)
        return app.send_static_file(filename)
    if cache_control is None:
        current = request.args.get(VERSION_ARG) == found.version
        cache_control = IMMUTABLE if current else REVALIDATE
    body = found.body
    encoding = None
    if found.gzipped is not None and "gzip" in request.accept_encodings:
        body, encoding = found.gzipped, "gzip"
    response = Response(body, mimetype=found.mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    if found.gzipped is not None:
        response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = cache_control
    # One ETag per encoding: a cache must not answer a plain request with gzip bytes.
    response.set_etag(found.version + ("-gz" if encoding else ""))
    return response.make_conditional(request)


def _static_view(filename: str) -> Response:
    if request.method not in ("GET", "HEAD"):
        abort(405)
    return serve(filename)


def init_app(app: Flask) -> None:
    """Hashed URLs for the app's static files and the view that serves them."""
    if STATIC_ENDPOINT in app.view_functions:
        app.view_functions[STATIC_ENDPOINT] = _static_view
    app.url_defaults(_hashed_url)
