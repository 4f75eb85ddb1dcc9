"""Whether the analysed plan was pre-registered, read from the results' lock record.

A plan counts as pre-registered only when a lock was recorded, the analysed plan is the
locked one, the lock's time is known and no analysed participant arrived before it; the
report says which of these failed, in the reader's language.

Examples
--------
>>> from analysis.report.i18n import translator
>>> lock = {"plan_hash": "ab" * 32, "matches": True, "locked_at": "2026-11-20T09:00:00Z",
...         "analysed_before_lock": 0}
>>> reg = Preregistration.from_meta({"provenance": {"lock": lock}})
>>> reg.preregistered
True
>>> plan_statement(reg, translator("en"))
'Pre-registered: the analysis plan was locked on November 20, 2026, 09:00 UTC (plan hash abababababab) ...'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.report.i18n import Translator, when
from analysis.report.result_values import is_number

__all__ = ["Preregistration", "plan_statement"]


@dataclass(frozen=True)
class Preregistration:
    """What the results say about the plan's lock (``meta.provenance.lock``).

    A plan counts as pre-registered only when a lock was recorded, the analysed
    plan is the locked one, the lock's time is known and no analysed participant
    arrived before it.
    """

    locked: bool
    matches: bool
    lock_hash: str | None
    locked_at: str | None
    before_lock: int | None
    used_hash: str | None

    @property
    def preregistered(self) -> bool:
        return (
            self.locked
            and self.matches
            and self.locked_at is not None
            and self.before_lock is not None
            and self.before_lock == 0
        )

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> Preregistration:
        lock = (meta.get("provenance") or {}).get("lock") or {}
        before = meta.get("analysed_before_lock", lock.get("analysed_before_lock"))
        return cls(
            locked=bool(lock.get("plan_hash")),
            matches=bool(lock.get("matches", False)),
            lock_hash=lock.get("plan_hash"),
            locked_at=lock.get("locked_at"),
            before_lock=int(before) if is_number(before) else None,
            # comparable with the lock's hash when framelab says how the lock hashed it
            used_hash=lock.get("study_plan_hash") or meta.get("plan_hash"),
        )


def plan_statement(reg: Preregistration, t: Translator) -> str:
    """Whether the analysed plan was pre-registered, with the lock's hash and time, or why not.

    Parameters
    ----------
    reg : Preregistration
        The lock as the results record it (``ReportContext.preregistration``).
    t : Translator
        The language of the sentence (the appendix asks for English).

    Returns
    -------
    str
        One sentence: pre-registered (when and which hash), or the first reason it is not.

    Notes
    -----
    The reasons are checked in order: no lock, another plan than the locked one, no lock
    time, participants analysed from before the lock. Hashes are shown to 12 characters.

    Examples
    --------
    >>> from analysis.report.i18n import translator
    >>> reg = Preregistration.from_meta({"plan_hash": "9f2c" + "0" * 60})
    >>> plan_statement(reg, translator("en"))
    'Not pre-registered: this analysis plan (hash 9f2c00000000) was not locked before ...'
    """
    used = (reg.used_hash or "")[:12] or t("not recorded")
    if reg.preregistered:
        return t(
            "Pre-registered: the analysis plan was locked on {time} (plan hash {hash}) before "
            "any of the analysed participants took part.",
            time=when(reg.locked_at, t) or str(reg.locked_at),
            hash=(reg.lock_hash or "")[:12],
        )
    if not reg.locked:
        return t(
            "Not pre-registered: this analysis plan (hash {hash}) was not locked before the "
            "data were collected.",
            hash=used,
        )
    if not reg.matches:
        return t(
            "Not pre-registered: the plan analysed here (hash {hash}) is not the locked plan "
            "(hash {lock}).",
            hash=used,
            lock=(reg.lock_hash or "")[:12],
        )
    if reg.locked_at is None:
        return t(
            "Not pre-registered: the plan was locked (plan hash {lock}), but the time of the "
            "lock was not recorded, so it cannot be shown to precede the data.",
            lock=(reg.lock_hash or "")[:12],
        )
    return t.n(
        "Not pre-registered: the plan was locked on {time} (plan hash {lock}), but {n} of the "
        "analysed participants took part before that.",
        "Not pre-registered: the plan was locked on {time} (plan hash {lock}), but {n} of the "
        "analysed participants took part before that.",
        reg.before_lock or 0,
        time=when(reg.locked_at, t) or str(reg.locked_at),
        lock=(reg.lock_hash or "")[:12],
    )
