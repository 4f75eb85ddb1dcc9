"""`make bench --before REV`: the after/before figures are medians of interleaved rounds.

Issue 18 asks for the participant flow's median round ratio with its spread; the server's
CPU per participant is the second figure, steadier on a shared machine.
"""

from __future__ import annotations

from benchmarks.report import AFTER_VS_BEFORE, before_after


def _record(target: str, rates: list[float], cpu: list[float | None]) -> dict:
    return {
        "target": target,
        "concurrency": 10,
        "think_s": 0,
        "rounds_participants_per_s": rates,
        "rounds_server_cpu_ms_per_participant": cpu,
    }


def test_rates_and_cpu_give_one_median_row_each_with_the_spread():
    flow = [
        _record("framelab/sqlite", [90, 100, 120, 80, 95], [20.0, 21.0, 19.0, None, 20.0]),
        _record(
            "framelab@abc1234/sqlite", [100, 100, 100, 100, 100], [20.0, 20.0, 20.0, 20.0, 22.0]
        ),
    ]
    rate, cpu = before_after(flow)
    assert "participants/s" in rate["name"] and "5 rounds 0.80-1.20" in rate["name"]
    assert rate["value"] == 0.95 and rate["target"] == f">= {AFTER_VS_BEFORE}"
    assert rate["low"] == 0.8 and rate["high"] == 1.2 and rate["rounds"] == 5
    # before / after per round; the round without a CPU reading is left out.
    assert "server CPU" in cpu["name"] and cpu["rounds"] == 4
    assert abs(cpu["value"] - (20 / 20 + 20 / 19) / 2) < 1e-3  # of 0.95, 1.00, 1.05, 1.10
    assert cpu["high"] == round(22 / 20, 3)


def test_a_run_without_a_before_revision_has_no_rows():
    assert before_after([_record("framelab/sqlite", [1.0], [1.0])]) == []
