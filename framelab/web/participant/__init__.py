"""The participant blueprint: consent, pre, message, post, intent, debrief."""

from framelab.web.participant.pages import page_from_state, page_view, render_page
from framelab.web.participant.views import bp

__all__ = ["bp", "page_from_state", "page_view", "render_page"]
