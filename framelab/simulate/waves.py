"""Rehearsal bots that come back for a study's follow-up waves (issue 21).

A `WaveSimulator` is a `Simulator` whose bots, after wave 1, keep the follow-up link
their debrief shows. When its bots are done, the virtual clock moves on into each
wave's window and every bot comes back with its arm's return probability (`returns`,
`--return care=0.5`; DEFAULT_RETURN otherwise), opens its link in a fresh browser and
answers the wave's questions the way it answered wave 1's, with the wave's planted
effect instead (`wave_effects`, `--wave-effect w2:care=0.3`; the wave-1 effect where
none is given, i.e. no decay). So a rehearsal can plant a decay (0.6 at wave 1, 0.3 at
wave 2) and a differential return, and the rehearsal report shows both.

Bots over HTTP (no virtual clock) cannot wait days: they take wave 1 only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from framelab.domain.study import Study
from framelab.simulate.bots import SimulationError, SimulationSummary, Simulator, _Bot, _token
from framelab.simulate.effects import _arm_pairs, arm_chances
from framelab.simulate.transport import Reply, Transport
from framelab.testing.forms import parse_page

DEFAULT_RETURN = 0.7
_FOLLOW_UP = re.compile(r'href="(?:https?://[^/"]+)?(/f/[A-Za-z0-9_-]+)"')


def parse_wave_effects(pairs: list[str], spec: Study) -> dict[str, dict[str, float]]:
    """`["w2:care=0.3", ...]` -> {"w2": {"care": 0.3}}; waves and arms must be the study's."""
    waves = [w.id for w in spec.waves or []]
    out: dict[str, dict[str, float]] = {}
    for text in pairs:
        wave, sep, rest = text.partition(":")
        if not sep or wave not in waves:
            raise ValueError(
                f"--wave-effect {text!r}: expected WAVE:ARM=DELTA with WAVE one of "
                f"{', '.join(waves) or '(the study has no waves)'}"
            )
        for _pair, arm, delta in _arm_pairs("--wave-effect", "DELTA", [rest], spec):
            try:
                out.setdefault(wave, {})[arm] = float(delta)
            except ValueError:
                raise ValueError(f"--wave-effect {text!r}: DELTA must be a number") from None
    return out


def parse_returns(pairs: list[str], spec: Study) -> dict[str, float]:
    """`["care=0.5", ...]` -> {"care": 0.5}: per-arm chance of coming back for each wave."""
    if pairs and not spec.waves:
        raise ValueError("--return: the study has no follow-up waves")
    return arm_chances("--return", pairs, spec)


class _Recording:
    """A transport that remembers each client's last reply (the debrief, after a walk)."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.last: dict[int, Reply] = {}

    def new_participant(self) -> Any:
        return self.inner.new_participant()

    def get(self, client: Any, url: str) -> Reply:
        reply = self.inner.get(client, url)
        self.last[id(client)] = reply
        return reply

    def post(self, client: Any, url: str, data: Mapping[str, str]) -> Reply:
        reply = self.inner.post(client, url, data)
        self.last[id(client)] = reply
        return reply


@dataclass
class _Finished:
    bot: _Bot
    path: str
    done_at: datetime


class WaveSimulator(Simulator):
    """Bots through wave 1, then back for each follow-up wave (see the module)."""

    def __init__(
        self,
        spec: Study,
        transport: Transport,
        *,
        wave_effects: Mapping[str, Mapping[str, float]] | None = None,
        returns: Mapping[str, float] | None = None,
        **options: Any,
    ) -> None:
        self._recording = _Recording(transport)
        super().__init__(spec, self._recording, **options)
        self.wave_effects = {w: dict(e) for w, e in (wave_effects or {}).items()}
        self.returns = dict(returns or {})
        self.finished: list[_Finished] = []

    def _walk(self, bot: _Bot, client: Any) -> None:
        super()._walk(bot, client)
        reply = self._recording.last.pop(id(client), None)
        found = _FOLLOW_UP.search(reply.text) if reply is not None else None
        if found and bot.arm is not None and self.clock is not None:
            self.finished.append(_Finished(bot, found.group(1), self.clock.current))

    def run(
        self, indices: Iterable[int], on_done: Callable[[], None] | None = None
    ) -> SimulationSummary:
        """Wave 1 for the bots numbered `indices`, then their follow-up waves."""
        summary = super().run(indices, on_done)
        if self.clock is not None:
            for wave in self.spec.waves or []:
                for done in self.finished:
                    self._come_back(done, wave)
        return summary

    def _come_back(self, done: _Finished, wave: Any) -> None:
        bot, clock = done.bot, self.clock
        assert clock is not None
        if bot.rng.random() >= self.returns.get(bot.arm or "", DEFAULT_RETURN):
            return
        opens = done.done_at + timedelta(days=wave.after_days)
        when = opens + timedelta(days=bot.rng.uniform(0.0, wave.window_days / 4))
        if when > clock.current:
            clock.current = when
        if clock.current >= opens + timedelta(days=wave.window_days):
            return  # the clock passed this bot's window while others came back
        client = self.transport.new_participant()
        reply = self.transport.get(client, done.path)
        forms = parse_page(reply.text)[0] if reply.status == 200 else []
        form = next((f for f in forms if "wave" in f.fields), None)
        if form is None:
            raise SimulationError(f"follow-up link {done.path}: no wave page ({reply.status})")
        self._wait(bot, 8 * len(wave.items))
        answers = {"csrf_token": _token(form), "wave": wave.id}
        answers.update(self._wave_answers(bot, wave))
        saved = self.transport.post(client, done.path, answers)
        if saved.status != 200 or 'name="wave"' in saved.text:
            raise SimulationError(f"wave {wave.id}: answers not saved (HTTP {saved.status})")
        self.summary.returned[wave.id] = self.summary.returned.get(wave.id, 0) + 1

    def _wave_answers(self, bot: _Bot, wave: Any) -> dict[str, str]:
        # The wave-1 answer model with the wave's planted effect (default: wave 1's).
        first = self.effects
        self.effects = {**first, **self.wave_effects.get(wave.id, {})}
        try:
            out = {}
            for item_id in wave.items:
                item = self.spec.item(item_id)
                out[item_id] = str(self._outcome(bot, "post", item, item.allowed_values() or []))
            return out
        finally:
            self.effects = first
