"""Flask extensions, created unbound and attached to the app in `create_app`."""

from __future__ import annotations

from functools import cached_property

from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from framelab.web.i18n import StudyInterfaceDomain


class _Babel(Babel):
    """Flask-Babel translating through the page's study interface strings (web.i18n)."""

    @cached_property
    def domain_instance(self) -> StudyInterfaceDomain:
        return StudyInterfaceDomain(domain=self.domain)


babel = _Babel()
csrf = CSRFProtect()
