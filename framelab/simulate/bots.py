"""Simulated participants that take a study through its pages and answer plausibly.

Each bot starts from the study link, consents, answers the pre items from
plausible distributions (an ideology spread, values that correlate with
ideology), reads its message, answers the post items as pre + the planted effect
of its arm (+ moderator effects) + noise, in the item's own units and clipped to
its range, then the intent items driven by the post attitude. Some fail the
attention check, some drop out. Bots submit the HTML forms of the pages (with
their CSRF tokens), read with framelab.testing.forms like the load generator's
participants, so the app records exactly what it would for people.
"""

from __future__ import annotations

import html
import math
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from framelab.domain.manipulation import has_meanings, target_codes
from framelab.domain.study import Item, Study
from framelab.simulate.effects import Moderator
from framelab.simulate.transport import Reply, Transport, VirtualClock
from framelab.testing.forms import Form, page_form, parse_page

PANEL_SHARE = 0.6  # share of bots arriving with a Prolific id
SOURCES = ("prolific", "sms", "social", "email")
_FRAME_TITLE = re.compile(r'<article class="frame"[^>]*>\s*<h2>(.*?)</h2>', re.S)
_NOT_ANSWERS = {"csrf_token", "code", "step", "website", "consent"}
# Chance that a bot picks the manipulation-check answer its arm was meant to convey
# (otherwise it picks any answer at random); `recognition` sets it per arm.
DEFAULT_RECOGNITION = 0.6


class SimulationError(RuntimeError):
    """The app answered a bot in a way a real participant would be stuck with."""


@dataclass
class SimulationSummary:
    """What the bots did: counts by outcome and by arm seen."""

    started: int = 0
    completed: int = 0
    dropped_out: int = 0
    attention_failed: int = 0
    # Turned away before assignment: screened out by the screener or over a full quota.
    screened_out: int = 0
    arms: dict[str, int] = field(default_factory=dict)
    # Follow-up waves (framelab.simulate.waves): bots that came back, per wave id.
    returned: dict[str, int] = field(default_factory=dict)


@dataclass
class _Bot:
    rng: random.Random
    spec: Study
    lang: str
    ideology: float
    fails_attention: bool
    drop_at: str | None
    arm: str | None = None
    pre: dict[str, int] = field(default_factory=dict)
    post: dict[str, float] = field(default_factory=dict)


def _clip(value: float, low: int, high: int) -> int:
    return int(min(high, max(low, round(value))))


def _ordinal(rng: random.Random, centre: float, spread: float, values: list[int]) -> int:
    """A value of an ordered item around a position in [-1, 1]."""
    position = centre + rng.gauss(0, spread)
    index = (position + 1) / 2 * (len(values) - 1)
    return values[_clip(index, 0, len(values) - 1)]


# How values lean with ideology (negative: more on the left); after Graham et al. 2009.
_VALUE_LEAN = {
    "care": -0.35,
    "equality": -0.4,
    "proportionality": 0.2,
    "loyalty": 0.4,
    "authority": 0.45,
    "purity": 0.4,
    "liberty": 0.15,
    "universalism": -0.4,
    "benevolence": -0.1,
    "tradition": 0.4,
    "security": 0.3,
    "conformity": 0.3,
}


class Simulator:
    """Runs bots through one study; `effects` are in each outcome's own units."""

    def __init__(
        self,
        spec: Study,
        transport: Transport,
        *,
        effects: Mapping[str, float],
        moderators: list[Moderator] | None = None,
        seed: int = 0,
        dropout: float = 0.05,
        attention_fail: float = 0.03,
        clock: VirtualClock | None = None,
        recognition: Mapping[str, float] | None = None,
    ) -> None:
        self.spec = spec
        self.transport = transport
        self.effects = dict(effects)
        self.moderators = list(moderators or [])
        self.seed = seed
        self.dropout = dropout
        self.attention_fail = attention_fail
        self.clock = clock
        self.recognition = dict(recognition or {})
        self.summary = SimulationSummary()
        self._block_by = spec.design.block_by
        self._titles = {
            (arm.id, lang): spec.text(arm.frame.title, lang)
            for arm in spec.arms
            if arm.frame is not None
            for lang in spec.languages
        }

    # ------------------------------------------------------------ running

    def run(
        self, indices: Iterable[int], on_done: Callable[[], None] | None = None
    ) -> SimulationSummary:
        """Send the bots numbered `indices` through the study, one after another."""
        for index in indices:
            self.run_one(index)
            if on_done is not None:
                on_done()
        return self.summary

    def run_one(self, index: int) -> None:
        """Bot number `index` from the study link to its debrief (or its drop-out)."""
        # String seeds are hashed the same way on every platform and Python version,
        # so bot i answers the same however the bots are split between processes.
        rng = random.Random(f"{self.seed}:{index}")
        languages = self.spec.languages
        lang = languages[0] if rng.random() < 0.7 or len(languages) == 1 else rng.choice(languages)
        steps = ("pre", "message", "post", "intent")
        bot = _Bot(
            rng=rng,
            spec=self.spec,
            lang=lang,
            ideology=max(-1.0, min(1.0, rng.gauss(0, 0.5))),
            fails_attention=rng.random() < self.attention_fail,
            drop_at=rng.choice(steps) if rng.random() < self.dropout else None,
        )
        client = self.transport.new_participant()
        try:
            self._walk(bot, client)
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def _wait(self, bot: _Bot, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(max(1.0, bot.rng.gauss(seconds, seconds / 3)))

    def _walk(self, bot: _Bot, client: Any) -> None:
        rng = bot.rng
        params = {"lang": bot.lang, "src": rng.choice(SOURCES)}
        if rng.random() < PANEL_SHARE:
            params["src"] = "prolific"
            params["PROLIFIC_PID"] = f"sim{rng.getrandbits(48):012x}"
        query = "&".join(f"{k}={v}" for k, v in params.items())
        reply = self.transport.get(client, f"/s/{self.spec.slug}?{query}")
        self.summary.started += 1
        # Panel links too show the consent page: enrolment happens on the consent.
        _expect(reply, 200, "the study link")
        self._wait(bot, 20)
        form = page_form(parse_page(reply.text)[0])
        if form is None or form.method != "post":
            raise SimulationError("page has no form that posts the consent")
        data = {"csrf_token": _token(form), "step": "consent", "consent": "yes"}
        reply = self.transport.post(client, form.action, data)
        page_url = _expect(reply, 302, "consenting").location or ""
        while True:
            reply = self.transport.get(client, page_url)
            _expect(reply, 200, f"the page at {page_url}")
            form = page_form(parse_page(reply.text)[0])
            if form is None:
                if bot.arm is None and (self.spec.screener or self.spec.quota):
                    self.summary.screened_out += 1
                    return
                if "debrief" not in reply.text and bot.arm is None:
                    raise SimulationError(f"bot reached a page without a form at {page_url}")
                self.summary.completed += 1
                if bot.fails_attention:
                    self.summary.attention_failed += 1
                return
            step = form.fields["step"].value
            if step == bot.drop_at:
                self.summary.dropped_out += 1
                return
            if step == "consent":
                self._wait(bot, 20)
                answers = {"consent": "yes"}
            else:
                answers = self._answers(bot, step, reply.text, form)
            answers.update({"csrf_token": _token(form), "step": step})
            reply = self.transport.post(client, page_url, answers)
            if reply.status != 302:
                raise SimulationError(
                    f"step {step!r}: expected a redirect after valid answers, got HTTP {reply.status}"
                )

    # ------------------------------------------------------------ answers

    def _answers(self, bot: _Bot, step: str, page: str, form: Form) -> dict[str, str]:
        if step == "message":
            self._wait(bot, 45)
            bot.arm = self._arm_shown(bot, page)
            self.summary.arms[bot.arm] = self.summary.arms.get(bot.arm, 0) + 1
            return {}
        names = [n for n, f in form.fields.items() if f.kind != "submit" and n not in _NOT_ANSWERS]
        self._wait(bot, 8 * max(1, len(names)))
        answers: dict[str, str] = {}
        for name in names:
            value = self._answer(bot, step, self.spec.item(name))
            if value is not None:
                answers[name] = str(value)
        return answers

    def _arm_shown(self, bot: _Bot, page: str) -> str:
        match = _FRAME_TITLE.search(page)
        if match is None:
            return self.spec.control_arm.id
        title = html.unescape(match.group(1)).strip()
        for (arm_id, lang), text in self._titles.items():
            if lang == bot.lang and text.strip() == title:
                return arm_id
        raise SimulationError(f"message page shows an unknown frame title {title!r}")

    def _answer(self, bot: _Bot, step: str, item: Item) -> int | str | None:
        rng = bot.rng
        phase = "post" if step in ("post", "intent") else "pre"  # the screener's are pre
        allowed = item.allowed_values()
        if item.type == "text":
            return "Thank you." if rng.random() < 0.1 else None
        assert allowed is not None
        if item.role == "attention_check":
            if bot.fails_attention:
                return rng.choice([v for v in allowed if v != item.correct] or allowed)
            return item.correct
        if item.role in ("outcome", "intent") or (phase == "post" and item.role != "covariate"):
            return self._outcome(bot, phase, item, allowed)
        lean = _VALUE_LEAN.get(item.value or "", 0.0)
        if item.id == self._block_by or "ideolog" in item.id:
            value = _ordinal(rng, bot.ideology, 0.15, allowed)
        elif item.value:
            value = _ordinal(rng, 0.3 + lean * bot.ideology * 2, 0.45, allowed)
        elif item.type == "binary":
            value = int(rng.random() < 0.5)
        else:
            value = rng.choice(allowed)
        if phase == "pre":
            bot.pre[item.id] = value
        return value

    def _outcome(self, bot: _Bot, phase: str, item: Item, allowed: list[int]) -> int:
        rng = bot.rng
        low, high = allowed[0], allowed[-1]
        width = high - low
        if item.role == "manipulation_check" and item.type == "choice":
            return self._manipulation_answer(bot, item, allowed)
        if item.role == "intent" and item.id not in bot.pre:
            attitude = self._attitude(bot)
            if item.type == "binary":
                logit = -0.8 + 2.5 * attitude + self._delta(bot, item)
                return int(rng.random() < 1 / (1 + math.exp(-logit)))
            centre = low + width * (0.5 + 0.35 * attitude) + self._delta(bot, item)
            return _clip(centre + rng.gauss(0, width * 0.15), low, high)
        if phase == "pre" or item.id not in bot.pre:
            # Centred below the top so that planted effects are not eaten by the ceiling.
            centre = low + width * (0.45 - 0.2 * bot.ideology)
            base = _clip(centre + rng.gauss(0, width * 0.15), low, high)
            if phase == "pre":
                bot.pre[item.id] = base
                return base
        else:
            base = bot.pre[item.id]
        post = base + self._delta(bot, item) + rng.gauss(0, width * 0.05)
        bot.post[item.id] = (post - low) / width if width else 0.5
        return _clip(post, low, high)

    def _delta(self, bot: _Bot, item: Item) -> float:
        """Planted effect for this bot's arm (plus moderators) on an outcome, in item units."""
        if bot.arm is None:
            return 0.0
        delta = self.effects.get(bot.arm, 0.0)
        for mod in self.moderators:
            if mod.arm == bot.arm and bot.pre.get(mod.item) == mod.value:
                delta += mod.delta
        if item.role == "intent":
            # Intents follow the attitude; a planted attitude effect reaches them scaled down.
            return delta * 0.3
        return delta

    def _attitude(self, bot: _Bot) -> float:
        """Post attitude in [-0.5, 0.5] (from the post outcomes seen so far)."""
        if bot.post:
            return sum(bot.post.values()) / len(bot.post) - 0.5
        return -0.25 * bot.ideology

    def _manipulation_answer(self, bot: _Bot, item: Item, allowed: list[int]) -> int:
        if has_meanings(item):
            # The study says which answers each arm should evoke: pick one of them with
            # the arm's recognition probability, else any answer at random.
            targets = target_codes(self.spec, item, bot.arm) if bot.arm else []
            chance = self.recognition.get(bot.arm or "", DEFAULT_RECOGNITION)
            if targets and bot.rng.random() < chance:
                return bot.rng.choice(targets)
            return bot.rng.choice(allowed)
        arm = self.spec.arm(bot.arm) if bot.arm else None
        tags = set(arm.frame.values) if arm and arm.frame else set()
        hits = [
            o.value
            for o in item.options or []
            if any(tag in self.spec.text(o.label, "en").lower() for tag in tags)
        ]
        if hits and bot.rng.random() < 0.6:
            return hits[0]
        return bot.rng.choice(allowed)


def _expect(reply: Reply, status: int, what: str) -> Reply:
    if reply.status != status:
        raise SimulationError(f"{what}: expected HTTP {status}, got {reply.status}")
    return reply


def _token(form: Form) -> str:
    token = form.fields.get("csrf_token")
    if token is None or not token.value:
        raise SimulationError("page has no CSRF token")
    return token.value
