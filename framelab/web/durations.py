"""Durations as people read them: "1 second", "2 seconds", "1 minute 5 seconds".

Plurals go through Flask-Babel's ngettext, so a catalog can translate them with its
own plural rules; without a translation they read in English.
"""

from __future__ import annotations

from flask_babel import ngettext


def duration_text(seconds: float | None) -> str:
    """Whole hours, minutes and seconds with singular/plural units; '' for None."""
    if seconds is None:
        return ""
    total = int(max(0.0, float(seconds)) + 0.5)  # round half up: 59.5 s reads "1 minute"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    if minutes:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    if secs or not parts:
        parts.append(ngettext("%(num)d second", "%(num)d seconds", secs))
    return " ".join(parts)
