"""The participant blueprint: consent, pre, message, post, intent, debrief.

`bp` (blueprint) carries the routes of the study link (views_link), the participant's
pages (views_pages) and leaving or coming back (views_leave); `pages` draws a page.
"""

from framelab.web.participant import views_leave, views_link, views_pages, views_reach, views_waves
from framelab.web.participant.blueprint import bp
from framelab.web.participant.pages import page_from_state, page_view, render_page

__all__ = [
    "bp",
    "page_from_state",
    "page_view",
    "render_page",
    "views_leave",
    "views_link",
    "views_pages",
    "views_reach",
    "views_waves",
]
