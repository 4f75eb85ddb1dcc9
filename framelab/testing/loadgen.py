"""Bounded async load generator: virtual participants walk a study like real ones, over HTTP.

Each virtual participant has its own cookies, opens the study link, reads every page, fills
the page's form with allowed values (CSRF token and hidden fields sent back as served),
posts it, follows the redirect, and stops on the final step. Every request's latency is
recorded, and every answer that received a success response (a redirect to the next page,
or a page for a later step) is kept so a checker can prove it reached the database.

    result = run_load("http://127.0.0.1:8000", "/s/torture-ban", concurrency=50, duration=10)
    result.summary()   # completed/s, p50/p95/p99 latency, errors

Loopback only (or a test network's server address that `framelab.testing.netns` has live on
this machine): the generator refuses any other host, so it can never be pointed at a real
deployment by accident. After a transport error (the server was killed) a participant waits
and re-opens its current page (cookie + resume link), so crash tests can check that nobody
is stuck.
"""

from __future__ import annotations

import asyncio
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from framelab.testing.forms import Form, fill_form, parse_page
from framelab.testing.http import CLIENTS, TransportError
from framelab.testing.netns import is_test_address
from framelab.testing.results import AckedAnswer, LoadResult
from framelab.web.compression import unmask

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class FlowConventions:
    """How the generator reads a participant flow; the defaults match framelab's pages."""

    step_field: str = "step"
    final_steps: frozenset[str] = frozenset(
        {"debrief", "screened_out", "ineligible", "over_quota", "withdrawn"}
    )
    completed_step: str = "debrief"
    fixed: tuple[tuple[str, str], ...] = (("consent", "yes"),)
    # Steps that only gate entry; a formless page right after them is not a completion.
    fixed_steps: tuple[tuple[str, str], ...] = (("consent", "screened_out"),)
    ignore: frozenset[str] = frozenset({"website", "csrf_token"})
    # Forms whose action path has one of these segments are never the flow's form.
    skip_forms: tuple[str, ...] = ("withdraw",)
    # The participant code travels in the forms of their pages (a hidden field; their
    # address is the neutral /p) and in resume links (/r/<code>, /s/<slug>/p/<code>).
    code_field: str = "code"
    code_pattern: str = r"/(?:p|r)/([A-Za-z0-9_\-]{6,})"
    # framelab's pages mask the form's code afresh in every response (BREACH,
    # framelab.web.compression); other values pass through unchanged.
    read_code: Callable[[str], str] = unmask


class _Transient(Exception):
    """The server did not answer (killed or restarting); the participant will resume."""


class _Participant:
    def __init__(self, gen: LoadGenerator, index: int) -> None:
        self.gen = gen
        self.rng = random.Random(gen.seed * 1_000_003 + index)
        self.client = CLIENTS[gen.client](gen.base_url, timeout=gen.timeout)
        self.code: str | None = None
        self.url = gen.start_path
        self.step = "start"
        self.answered_past_consent = False
        self.requests = 0

    async def send(self, method: str, url: str, data: dict[str, str] | None = None):
        """One request plus any redirects (each hop timed on its own): (first, final) response."""
        result = self.gen.result
        first = None
        for _hop in range(10):
            began = time.perf_counter()
            try:
                response = await self.client.request(method, url, data)
            except TransportError as exc:
                result.transport_errors += 1
                if len(result.transport_samples) < 20:
                    result.transport_samples.append(f"{time.monotonic():.2f} {exc}")
                raise _Transient(str(exc)) from exc
            result.latencies.append(time.perf_counter() - began)
            result.requests += 1
            self.requests += 1
            if self.gen.deadline is not None and time.monotonic() <= self.gen.deadline:
                result.window_requests += 1
            result.statuses[response.status] += 1
            if response.status >= 500:
                result.server_errors.append(f"{method} {urlsplit(url).path} -> {response.status}")
                raise _Transient(f"HTTP {response.status}")
            location = response.location
            self._learn_code(response.url, location or "")
            first = first or response
            if location is None:
                self.url = response.url
                return first, response
            method, url, data = (
                ("GET", location, None)
                if response.status != 307
                else (
                    method,
                    location,
                    data,
                )
            )
        raise RuntimeError(f"redirect loop from {url}")

    def _learn_code(self, *urls: str) -> None:
        if self.code is None:
            for url in urls:
                match = re.search(self.gen.conventions.code_pattern, url)
                if match:
                    self.code = match.group(1)
                    return

    def flow_form(self, forms: list[Form]) -> Form | None:
        conv = self.gen.conventions
        candidates = [
            f
            for f in forms
            if f.method == "post"
            and not set(urlsplit(f.action).path.split("/")) & set(conv.skip_forms)
        ]
        with_step = [f for f in candidates if conv.step_field in f.fields]
        chosen = with_step or candidates
        return chosen[0] if chosen else None

    def page_step(self, form: Form | None, marks: dict[str, str], url: str) -> str:
        if form is not None and self.gen.conventions.step_field in form.fields:
            return form.fields[self.gen.conventions.step_field].value
        if marks.get("step"):
            return marks["step"]
        return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]

    def read_page(self, response) -> tuple[Form | None, str, bool | None]:
        """The page's flow form and step (learning the code); the walk's outcome when the
        page ends it (completed or not), else None."""
        conv = self.gen.conventions
        forms, marks = parse_page(response.text)
        form = self.flow_form(forms)
        if self.code is None and form is not None and conv.code_field in form.fields:
            self.code = conv.read_code(form.fields[conv.code_field].value) or None
        step = self.page_step(form, marks, response.url)
        self.step = step
        if self.code:
            self.gen.result.last_step[self.code] = step
        if step in conv.final_steps:
            return form, step, step == conv.completed_step
        if form is None:
            # A page without a form that was reached by answering (not by declining
            # consent) is the end of the study: framelab's debrief has links only.
            return form, step, response.status == 200 and self.answered_past_consent
        return form, step, None

    async def walk(self) -> bool:
        """Complete the study; True when the final step was reached."""
        _, response = await self.send("GET", self.url)
        for _page in range(50):
            form, step, done = self.read_page(response)
            if done is not None:
                return done
            assert form is not None
            if not await self.read_and_decide(step):
                return False  # left without answering
            response = await self.answer(form, step)
        raise RuntimeError(f"participant {self.code} did not finish within 50 pages")

    async def read_and_decide(self, step: str) -> bool:
        """The time a person takes on the page of `step`; False when they leave it."""
        if self.gen.think_time:
            # Reading and answering take people seconds; paced runs measure latency below
            # saturation, the way a server meets a real crowd.
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * self.gen.think_time)
        return True

    async def answer(self, form: Form, step: str):
        """Fill and post the page's form; the page that comes back. An acknowledged page's
        answers are kept for the integrity check; a rejected page comes back with its
        errors, and answering again is what people do."""
        conv = self.gen.conventions
        result = self.gen.result
        data, answers = fill_form(form, self.rng, fixed=dict(conv.fixed), ignore=conv.ignore)
        first, response = await self.send("POST", form.action or self.url, data)
        next_forms, next_marks = parse_page(response.text)
        next_step = self.page_step(self.flow_form(next_forms), next_marks, response.url)
        if first.location is None and next_step == step:
            result.rejected.append(f"{self.code} {step}: {response.status}")
            return response
        if step not in dict(conv.fixed_steps):
            self.answered_past_consent = True
        if self.code:
            fixed_names = {name for name, _ in conv.fixed}
            for item, value in answers.items():
                if item not in fixed_names:
                    result.answers.append(AckedAnswer(self.code, step, item, value))
        return response

    async def run(self) -> bool:
        """Walk the study, resuming from the current page after transport errors."""
        try:
            return await self._run()
        finally:
            await self.client.aclose()

    async def _run(self) -> bool:
        gen = self.gen
        while True:
            try:
                return await self.walk()
            except _Transient:
                if gen.resume_deadline is None or time.monotonic() > gen.resume_deadline:
                    if self.code:
                        gen.result.stuck.append(f"{self.code} at {self.step}")
                    return False
                gen.result.retries += 1
                await asyncio.sleep(gen.retry_delay)
                if self.code and gen.resume_path:
                    self.url = gen.resume_path.format(code=self.code)


class LoadGenerator:
    """`concurrency` virtual participants, each starting the next one when it finishes."""

    def __init__(
        self,
        base_url: str,
        start_path: str,
        *,
        concurrency: int,
        duration: float | None = None,
        participants: int | None = None,
        seed: int = 1,
        timeout: float = 30.0,
        conventions: FlowConventions | None = None,
        resume_path: str | None = None,
        resume_window: float | None = None,
        retry_delay: float = 0.25,
        on_progress: Callable[[LoadResult], None] | None = None,
        client: str = "lean",
        start_codes: list[str] | None = None,
        think_time: float = 0.0,
        max_tail: float | None = None,
        requests_per_participant: float | None = None,
    ) -> None:
        host = urlsplit(base_url).hostname
        if host not in LOOPBACK and not is_test_address(host):
            raise ValueError(f"base_url: load is only generated against loopback, not {host!r}")
        if start_codes is not None:
            # Resume these participants (by code, with fresh cookies) instead of new ones.
            if resume_path is None:
                raise ValueError("resume_path: needed to resume participants by code")
            participants = len(start_codes)
        if duration is None and participants is None:
            raise ValueError("duration or participants: give at least one bound")
        self.base_url = base_url
        self.start_path = start_path
        self.concurrency = concurrency
        self.duration = duration
        self.participants = participants
        self.seed = seed
        self.timeout = timeout
        self.conventions = conventions or FlowConventions()
        self.resume_path = resume_path
        self.resume_window = resume_window
        self.retry_delay = retry_delay
        self.on_progress = on_progress
        if client not in CLIENTS:
            raise ValueError(
                f"client: {client!r} is not a client (expected one of: {', '.join(CLIENTS)})"
            )
        self.client = client
        self.start_codes = start_codes
        self.think_time = think_time
        # With a duration: stop waiting for participants still walking this long after the
        # window closed (None waits for all; benchmarks cap it, tests want every one done).
        self.max_tail = max_tail
        self.result = LoadResult(
            concurrency=concurrency,
            think_time=think_time,
            requests_per_participant=requests_per_participant,
        )
        self.resume_deadline: float | None = None
        self.deadline: float | None = None
        self.stop_event = threading.Event()

    def stop(self) -> None:
        """Ask the virtual participants to finish their current study and stop (thread-safe)."""
        self.stop_event.set()

    async def _lane(self, deadline: float | None, lane: int = 0) -> None:
        result = self.result
        if self.think_time:
            # Paced participants arrive spread over one think time, as people do, not all
            # in the same millisecond (a burst would measure queueing, not pacing).
            await asyncio.sleep(random.Random(self.seed * 7919 + lane).uniform(0, self.think_time))
        while not self.stop_event.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                return
            if self.participants is not None and result.started >= self.participants:
                return
            index = result.started
            result.started += 1
            participant = _Participant(self, index)
            if self.start_codes is not None:
                participant.code = self.start_codes[index]
                participant.url = self.resume_path.format(code=participant.code)
                participant.answered_past_consent = True
            if await participant.run():
                result.completed += 1
                result.completed_requests += participant.requests
            if self.on_progress:
                self.on_progress(result)

    async def run(self) -> LoadResult:
        began = time.monotonic()
        deadline = began + self.duration if self.duration is not None else None
        self.deadline = deadline
        self.result.window = self.duration
        if self.resume_window is not None:
            # Participants keep retrying (e.g. while a killed server restarts) until then.
            self.resume_deadline = (deadline or began) + self.resume_window
        lanes = asyncio.gather(*(self._lane(deadline, lane) for lane in range(self.concurrency)))
        try:
            if self.max_tail is not None and self.duration is not None:
                try:
                    await asyncio.wait_for(lanes, self.duration + self.max_tail)
                except TimeoutError:
                    self.result.abandoned = self.result.started - self.result.completed
            else:
                await lanes
        finally:
            self.result.elapsed = time.monotonic() - began
        return self.result


def run_load(
    base_url: str,
    start_path: str,
    *,
    concurrency: int,
    duration: float | None = None,
    participants: int | None = None,
    seed: int = 1,
    **options,
) -> LoadResult:
    """Run a load and block until it ends: `duration` seconds and/or `participants` started."""
    generator = LoadGenerator(
        base_url,
        start_path,
        concurrency=concurrency,
        duration=duration,
        participants=participants,
        seed=seed,
        **options,
    )
    return asyncio.run(generator.run())
