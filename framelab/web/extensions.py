"""Flask extensions, created unbound here and attached to each app in `create_app` (init_app).

- `babel`: Flask-Babel, translating through the page's study interface strings (web.i18n);
- `csrf`: Flask-WTF's CSRF protection of studio forms (participant forms carry their own
  token, framelab.web.security.participant_form_token);
- `login_manager`: Flask-Login for the studio (its user loader is in web.studio.auth);
- `limiter`: the rate limits views declare (framelab.web.rate_limits); each app gets a
  Flask-Limiter of its own in init_app, so two apps never share counters.
"""

from __future__ import annotations

from functools import cached_property

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from framelab.web.i18n import StudyInterfaceDomain
from framelab.web.rate_limits import RateLimits


class _Babel(Babel):
    """Flask-Babel translating through the page's study interface strings (web.i18n)."""

    @cached_property
    def domain_instance(self) -> StudyInterfaceDomain:
        return StudyInterfaceDomain(domain=self.domain)


babel = _Babel()
csrf = CSRFProtect()
limiter = RateLimits()

login_manager = LoginManager()
login_manager.login_view = "studio.login"
login_manager.login_message = "Please sign in to use the studio."
login_manager.login_message_category = "info"
