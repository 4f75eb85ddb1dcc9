"""The studio blueprint object; views attach their routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "studio",
    __name__,
    url_prefix="/studio",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
