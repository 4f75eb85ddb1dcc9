"""Compressed pages, only where compression cannot leak a secret (BREACH), and token masking.

BREACH: when a compressed response holds both a secret and text an attacker chooses
(an echoed answer, a query parameter kept in the language links), the response's
length tells whether a guess of the secret's next characters matched. So a page is
compressed only when the view says so (`allow_compression`), and a participant's page
says so only when every secret in it is masked per response (`mask`): its participant
code and form token are sent as a fresh one-time pad and the token XOR that pad, so
the bytes differ in every response and nothing repeats for compression to match. A
page that shows a secret in clear (the debrief's participant code) or carries an
unmasked token (the study link's consent page, with Flask-WTF's token) is sent
uncompressed. Flask-WTF's tokens are not masked per response: they are the session's
fixed random token, signed with a timestamp, so the fixed part repeats in every page.

Static files (no secret, no echo) are compressed by framelab.web.assets.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import secrets

from flask import Flask, request
from werkzeug.wrappers import Response

# Below this a gzip header and trailer cost more than they save.
MIN_BYTES = 600
_FLAG = "framelab_compress"
_MASKED = "m."


def allow_compression(response: Response) -> Response:
    """Mark `response` as safe to compress: it holds no secret that is not masked per response."""
    setattr(response, _FLAG, True)
    return response


def mask(secret: str) -> str:
    """`secret` under a one-time pad drawn for this response: `m.` + base64(pad + pad XOR secret)."""
    raw = secret.encode()
    pad = secrets.token_bytes(len(raw))
    masked = bytes(a ^ b for a, b in zip(raw, pad, strict=True))
    return _MASKED + base64.urlsafe_b64encode(pad + masked).rstrip(b"=").decode()


def unmask(value: str) -> str:
    """The secret inside a `mask`ed value; any other value (an older page's) is returned as is."""
    if not value.startswith(_MASKED):
        return value
    text = value[len(_MASKED) :]
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return ""
    if not raw or len(raw) % 2:
        return ""
    half = len(raw) // 2
    plain = bytes(a ^ b for a, b in zip(raw[:half], raw[half:], strict=True))
    try:
        return plain.decode()
    except UnicodeDecodeError:
        return ""


def _compress(response: Response) -> Response:
    if not getattr(response, _FLAG, False):
        return response
    response.vary.add("Accept-Encoding")
    if (
        response.direct_passthrough
        or response.status_code != 200
        or "Content-Encoding" in response.headers
        or "gzip" not in request.accept_encodings
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response


def init_app(app: Flask) -> None:
    """Compress the responses views marked with `allow_compression`."""
    app.after_request(_compress)
