"""Fuzz fixtures: the web and studio fixtures re-exported."""

from __future__ import annotations

from tests.studio.conftest import studio_template
from tests.web.conftest import clock

__all__ = ["clock", "studio_template"]
