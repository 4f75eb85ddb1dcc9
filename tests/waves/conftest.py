"""The web tests' virtual clock for the follow-up wave tests."""

from tests.web.conftest import clock

__all__ = ["clock"]
