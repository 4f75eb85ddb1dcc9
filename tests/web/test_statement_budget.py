"""What one participant costs the database: statements per participant on the hot path.

On PostgreSQL every statement is parsed and run by the server, on two cores shared with
the app (issue 22's parity target), so a page's writes go as one statement: the
participant's UPDATE carries the answers' upsert, the page visits' upsert and the
skipped items' DELETE as data-modifying CTEs (participant_store.page_writes), and the
study link's arrival is one read. On SQLite (no round trips) they stay apart.
"""

from __future__ import annotations

import pytest

from framelab.db.direct import Direct
from tests.web.test_participant_flow import SPEC
from tests.web.walker import Walker

# Per participant, through the hot path's cursor (BEGIN/COMMIT aside): 9 page lookups
# (5 views and 4 submits: the consent's enrolment knows the row it wrote), the arrival and
# the consent's entry and study (one read each), the enrolment, 5 page writes, the
# assignment's counter and log, and the completion's target count.
POSTGRES_BUDGET = 20
# Submits: consent, pre, message, post, intent.
SUBMITS = 5


@pytest.fixture
def hot_path(monkeypatch) -> list[str]:
    """The SQL of every statement the participant hot path runs."""
    seen: list[str] = []
    run = Direct._run

    def counted(direct, statement, params, columns=None):
        seen.append(statement.compiled(direct.dialect, columns).sql.lstrip())
        return run(direct, statement, params, columns)

    monkeypatch.setattr(Direct, "_run", counted)
    return seen


def test_a_participant_costs_postgresql_one_write_statement_per_page(app_any_db, clock, hot_path):
    walker = Walker(app_any_db.test_client(), SPEC, clock)
    walker.complete(post={"comment": ""})  # a skipped optional item: its DELETE goes along
    if app_any_db.extensions["framelab.engine"].dialect.name != "postgresql":
        # SQLite: the same writes as separate statements, never one per item.
        assert sum(s.startswith("DELETE FROM response") for s in hot_path) <= 1
        pytest.skip("one statement per page is PostgreSQL's (SQLite has no INSERT in WITH)")
    writes = [s for s in hot_path if s.startswith(("INSERT", "UPDATE", "DELETE", "WITH"))]
    page_writes = [s for s in writes if s.startswith("WITH")]
    assert len(page_writes) == SUBMITS, writes
    assert all(s.split("\n")[-1].startswith(("UPDATE participant", "UPDATE participant SET"))
               or "UPDATE participant SET" in s for s in page_writes)  # fmt: skip
    alone = [s.split("(")[0].strip() for s in writes if not s.startswith("WITH")]
    assert sorted(alone) == ["INSERT INTO assignment_log", "INSERT INTO block_state",
                             "INSERT INTO participant"], alone  # fmt: skip
    assert len(hot_path) <= POSTGRES_BUDGET, "\n".join(s[:80] for s in hot_path)
