"""The report and the lock show one comparable plan hash.

The lock hashes the study's `analysis` section (framelab.services.study_versions.lock_hashes);
the results' meta.plan_hash is the hash of the analysis package's plan derived from it,
so the two never matched. framelab's provenance now carries the analysed study's plan
hashed as the lock hashed it, and the report compares those two.
"""

from __future__ import annotations

from analysis.report import render_html
from framelab.db.models import StudyVersion
from framelab.services.reporting import lock_provenance
from framelab.services.study_versions import get_study, lock_hashes
from tests.factories import make_study, publish
from tests.report.handmade import handmade_results

LOCK = "ab" * 32
OTHER = "cd" * 32


def _results(study_plan_hash: str) -> dict:
    results = handmade_results()
    results["meta"]["provenance"] = {
        "lock": {
            "plan_hash": LOCK,
            "study_plan_hash": study_plan_hash,
            "locked_at": "2026-11-01T10:00:00+00:00",
            "matches": study_plan_hash == LOCK,
        },
    }
    results["meta"]["analysed_before_lock"] = 0
    return results


def test_the_appendix_sets_the_locked_hash_next_to_the_analysed_studys():
    html = render_html(_results(LOCK))
    assert f"Plan hash locked at launch: {LOCK}; plan hash of the study analysed here: {LOCK}" in (
        html
    )
    assert "(the same plan;" in html


def test_a_changed_plan_names_both_comparable_hashes_never_the_derived_one():
    results = _results(OTHER)
    html = render_html(results)
    derived = results["meta"]["plan_hash"][:12]
    assert (
        f"the plan analysed here (hash {OTHER[:12]}) is not the locked plan (hash {LOCK[:12]})"
    ) in html
    assert f"(hash {derived})" not in html
    assert "(a different plan;" in html


def test_lock_provenance_hashes_the_analysed_study_as_the_lock_did(database_url):
    from tests.factories import session_for

    with session_for(database_url) as session:
        loaded = publish(session, make_study(), status="live")
        version = session.get(StudyVersion, loaded.version_id)
        lock = lock_provenance(version, loaded.spec)
        assert lock["plan_hash"] == lock["study_plan_hash"] == lock_hashes(loaded.spec)["plan"]
        assert lock["matches"] is True
        changed = make_study()
        changed.analysis.alpha = 0.01
        other = lock_provenance(version, changed)
        assert other["study_plan_hash"] != other["plan_hash"] and other["matches"] is False
        assert get_study(session, loaded.slug).version == loaded.version
