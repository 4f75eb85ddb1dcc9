"""The analysis plan's monitoring: how often results may be looked at and when to stop.

    analysis:
      monitoring:
        looks: anytime                 # the only choice: anytime-valid intervals
        stop_for_efficacy: true        # advise stopping when a frame's interval leaves zero
        stop_for_futility: {below: 0.1}  # ... or lies below 0.1 standard deviations
        tune_at: 800                   # optional: participants per comparison where the
                                       # interval is narrowest (default: its share of target_n)

The sample ceiling is the study's one locked `target_n`, so monitoring needs one. It is
part of the analysis plan, locked and hashed with it at launch; a stopping rule's
decision is advice that leads to the owner's confirmed close (DECISIONS rule 2). The
statistics live in `analysis.sequential`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from framelab.domain.items import DomainModel, OmitsUnsetFields

if TYPE_CHECKING:
    from framelab.domain.study import Study

__all__ = ["Futility", "Monitoring", "monitoring_problems", "monitoring_summary"]

MAX_FUTILITY_SD = 10.0


class Futility(DomainModel):
    """Advise stopping a frame whose whole interval lies below `below` standard deviations."""

    below: float = Field(gt=0, lt=MAX_FUTILITY_SD)


class Monitoring(OmitsUnsetFields):
    """Anytime-valid looks and the declared stopping rules (analysis.monitoring)."""

    _omit_when_none: ClassVar[tuple[str, ...]] = ("stop_for_futility", "tune_at")

    looks: Literal["anytime"] = "anytime"
    stop_for_efficacy: bool = True
    stop_for_futility: Futility | None = None
    tune_at: int | None = Field(default=None, ge=2, le=10_000_000)

    def plan_dict(self, target_n: int | None) -> dict[str, Any]:
        """The analysis package's `monitoring` mapping (the ceiling is the study's target)."""
        data: dict[str, Any] = {
            "looks": self.looks,
            "stop_for_efficacy": self.stop_for_efficacy,
            "max_n": target_n,
        }
        if self.stop_for_futility is not None:
            data["stop_for_futility"] = {"below": self.stop_for_futility.below}
        if self.tune_at is not None:
            data["tune_at"] = self.tune_at
        return data


def monitoring_problems(study: Study) -> list[tuple[str, str]]:
    """Monitoring needs the ceiling it stops at: the study's target_n."""
    if study.analysis.monitoring is not None and study.target_n is None:
        return [
            (
                "analysis.monitoring",
                "monitoring needs target_n (the planned sample, the ceiling where the study "
                "closes); set target_n or leave monitoring out",
            )
        ]
    return []


def monitoring_summary(monitoring: Monitoring | None, target_n: int | None) -> list[str]:
    """The plan's monitoring in plain sentences (studio: plan and launch pages)."""
    if monitoring is None:
        return [
            "No monitoring declared: results stay hidden until the planned sample is reached; "
            "before that only the anytime-valid intervals are shown to roles with the "
            "results permission."
        ]
    lines = [
        "Looks: any time. The intervals are anytime-valid, so results may be checked every "
        "day without raising the false-positive rate."
    ]
    if monitoring.stop_for_efficacy:
        lines.append(
            "Stop for efficacy: when a frame's interval lies wholly above (or below) zero, "
            "the dashboard advises that the study may stop."
        )
    if monitoring.stop_for_futility is not None:
        lines.append(
            f"Stop for futility: when a frame's interval lies wholly below "
            f"{monitoring.stop_for_futility.below:g} standard deviations, the dashboard "
            "advises that the study may stop."
        )
    ceiling = f"{target_n} completed participants" if target_n else "not set"
    lines.append(
        f"Ceiling: the planned sample ({ceiling}). Stopping earlier is the owner's "
        "confirmed Close now."
    )
    if monitoring.tune_at is not None:
        lines.append(
            f"The intervals are narrowest near {monitoring.tune_at} participants per comparison."
        )
    return lines
