"""The studio blueprint object; views attach their routes to it."""

from __future__ import annotations

from flask import Blueprint
from werkzeug.wrappers import Response


class StudioBlueprint(Blueprint):
    """The studio's static files are served like the participant pages' (framelab.web.assets):
    from memory with an ETag, so a request a browser drops leaves no file open."""

    def send_static_file(self, filename: str) -> Response:
        from framelab.web import assets

        if self.static_folder is None:  # pragma: no cover - the studio always has one
            return super().send_static_file(filename)
        return assets.serve(filename, folder=self.static_folder)


bp = StudioBlueprint(
    "studio",
    __name__,
    url_prefix="/studio",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
