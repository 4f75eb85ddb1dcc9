"""What a load run measured: latencies, statuses, errors and the answers the server acknowledged."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AckedAnswer:
    """An answer the server acknowledged: it must be in the database afterwards."""

    participant: str
    step: str
    item: str
    value: str


# Counts and samples that several runs of one load add up (LoadResult.combined).
_POOLED = (
    "started",
    "completed",
    "window_requests",
    "elapsed",
    "requests",
    "latencies",
    "server_errors",
    "transport_errors",
    "transport_samples",
    "rejected",
    "answers",
    "stuck",
    "retries",
    "abandoned",
    "completed_requests",
)


@dataclass
class LoadResult:
    concurrency: int
    think_time: float = 0.0
    started: int = 0
    completed: int = 0
    window: float | None = None
    window_requests: int = 0
    # Requests one participant needs, when this run finished nobody (e.g. from a warm-up).
    requests_per_participant: float | None = None
    elapsed: float = 0.0
    requests: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    transport_errors: int = 0
    transport_samples: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    answers: list[AckedAnswer] = field(default_factory=list)
    last_step: dict[str, str] = field(default_factory=dict)
    stuck: list[str] = field(default_factory=list)
    retries: int = 0
    abandoned: int = 0
    completed_requests: int = 0

    @property
    def throughput(self) -> float:
        """Completed participants per second.

        With a timed window: requests answered inside the window per second, divided by the
        requests one completed participant needs. Counting whole participants finished inside
        the window instead would quantize badly (lanes run in near lockstep, so completions
        come in waves of `concurrency`), and timing until the last straggler finishes would
        count the ramp-down, when fewer participants are active.
        """
        per_participant = (
            self.completed_requests / self.completed
            if self.completed
            else self.requests_per_participant
        )
        if self.window and per_participant:
            return self.window_requests / self.window / per_participant
        return self.completed / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in seconds (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank]

    @classmethod
    def combined(cls, parts: list[LoadResult]) -> LoadResult:
        """Several runs of one load (e.g. interleaved rounds) as one: counts and samples pooled."""
        first = parts[0]
        out = cls(concurrency=first.concurrency, think_time=first.think_time)
        out.requests_per_participant = first.requests_per_participant
        out.window = sum(p.window or 0.0 for p in parts) or None
        for p in parts:
            for name in _POOLED:
                setattr(out, name, getattr(out, name) + getattr(p, name))
            out.statuses += p.statuses
            out.last_step.update(p.last_step)
        return out

    def summary(self) -> dict:
        return {
            "concurrency": self.concurrency,
            "think_s": self.think_time,
            "started": self.started,
            "completed": self.completed,
            "elapsed_s": round(self.elapsed, 3),
            "participants_per_s": round(self.throughput, 2),
            "requests": self.requests,
            "window_requests": self.window_requests,
            "requests_per_s": round(self.requests / self.elapsed, 1) if self.elapsed else 0.0,
            "p50_ms": round(self.percentile(50) * 1000, 2),
            "p95_ms": round(self.percentile(95) * 1000, 2),
            "p99_ms": round(self.percentile(99) * 1000, 2),
            "server_errors": len(self.server_errors),
            "transport_errors": self.transport_errors,
            "rejected": len(self.rejected),
            "stuck": len(self.stuck),
            "retries": self.retries,
            "abandoned": self.abandoned,
            "acked_answers": len(self.answers),
        }
