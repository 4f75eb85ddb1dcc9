"""A participant driven through the pages with the Flask client, the way a browser would.

Pages are read with framelab.testing.forms (`csrf_token`, `form_action`, `page_step`),
the reader the simulated participants and the load generator use too.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from framelab.domain.study import Study
from framelab.testing.forms import csrf_token, form_action, page_step
from tests.factories import valid_answers


class Walker:
    """One participant (one cookie jar) taking a study."""

    def __init__(self, client: FlaskClient, spec: Study, clock: Any = None) -> None:
        self.client = client
        self.spec = spec
        self.clock = clock
        self.url: str | None = None
        self.last: str = ""
        self._code: str | None = None

    @property
    def code(self) -> str:
        """The participant code: the one this browser's cookie holds (who `/p` shows), or
        held last (a finished participant's browser is told to forget it)."""
        self._see_code()
        assert self._code is not None, "the browser never had a participant cookie"
        return self._code

    def _see_code(self) -> None:
        cookie = self.client.get_cookie("p", path="/p")
        if cookie is not None:
            self._code = cookie.value

    def wait(self, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(seconds)

    def open_link(self, query: str = "") -> Any:
        response = self.client.get(f"/s/{self.spec.slug}{query}")
        self.last = response.get_data(as_text=True)
        return response

    def consent(self, answer: str = "yes", query: str = "") -> Any:
        """Open the study link and answer the consent question."""
        response = self.open_link(query)
        if response.status_code == 302:
            # This browser already has a participant here: the link leads to their page.
            self.url = response.headers["Location"]
            if page_step(self.page().get_data(as_text=True)) != "consent":
                return response
            return self.post("consent", consent=answer)
        assert response.status_code == 200, response.status_code
        page = self.last
        response = self.client.post(
            form_action(page),
            data={"csrf_token": csrf_token(page), "step": "consent", "consent": answer},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        self.url = response.headers["Location"]
        self._see_code()
        return response

    def page(self) -> Any:
        assert self.url
        self._see_code()
        response = self.client.get(self.url)
        self.last = response.get_data(as_text=True)
        return response

    def post(self, step: str, answers: dict[str, str] | None = None, **extra: str) -> Any:
        """Post a form for `step` with the CSRF token of the last page seen."""
        data = {"csrf_token": csrf_token(self.last), "step": step, **(answers or {}), **extra}
        self._see_code()
        response = self.client.post(self.url, data=data)
        if response.status_code == 200:
            self.last = response.get_data(as_text=True)
        return response

    def answer(self, step: str, **chosen: Any) -> Any:
        """Show the page of `step`, then post valid answers (with `chosen` overrides)."""
        self.page()
        assert page_step(self.last) == step, (page_step(self.last), step)
        self.wait(20)
        answers = (
            valid_answers(self.spec, step, **chosen) if step in ("pre", "post", "intent") else {}
        )
        return self.post(step, answers)

    def complete(self, **chosen: Any) -> str:
        """From consent to the debrief; returns the debrief page."""
        self.consent()
        for step in ("pre", "message", "post", "intent"):
            response = self.answer(step, **chosen.get(step, {}))
            assert response.status_code == 302, self.last[:2000]
        self.page()
        return self.last
