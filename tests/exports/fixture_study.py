"""The exports' fixture study, built through the real path and exported by the CLI.

build_exports(folder, formats) -> {format: path}
    # `framelab init-db` and `framelab load-study examples/torture-ban.yaml` into a fresh
    # SQLite file, 16 participants through the participant pages (Flask client, virtual
    # clock), then `framelab export` once per format into `folder`.

Who takes part (the same every time: fixed clock, seeded blocked design, fixed answers):
- 10 complete in the centre stratum (one block of 10: every arm twice),
- 2 complete in the left stratum, 1 in the right stratum from an SMS link in Spanish,
- 2 consent and leave before the first questions (never assigned: arm missing),
- 1 declines consent (screened out: arm missing).

Regenerate the files R read (tests/reference/haven_exports.R) with
    .venv/bin/python -m tests.exports.fixture_study tests/reference
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from framelab import create_app
from framelab.cli import main
from framelab.simulate import VirtualClock
from tests.factories import EXAMPLE, make_study
from tests.web.walker import Walker

SLUG = "torture-ban"
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
# file name stem of the stored exports R read
REFERENCE_STEM = "haven_fixture"
EXTENSIONS = {"csv": "csv", "parquet": "parquet", "sav": "sav", "dta": "dta"}
EXTENSIONS |= {"codebook-json": "codebook.json", "codebook-md": "codebook.md"}


def _cli(url: str, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--database-url", url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _walk(url: str) -> None:
    clock = VirtualClock(START)
    app = create_app(
        {"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": True, "FRAMELAB_CLOCK": clock}
    )
    spec = make_study()
    try:

        def person(query: str = "") -> Walker:
            clock.advance(60)
            return Walker(app.test_client(), spec, clock)

        for n, ideology in enumerate(["3"] * 10 + ["1", "2", "5"]):
            walker = person()
            walker.consent(query="?src=sms&lang=es" if ideology == "5" else "")
            answers = {
                "pre": {"ideology": ideology, "support": 1 + n % 7},
                "post": {"support": 1 + (3 * n) % 7},
                "intent": {"join_sms": n % 2, "donate": 7 * n},
            }
            for step in ("pre", "message", "post", "intent"):
                response = walker.answer(step, **answers.get(step, {}))
                assert response.status_code == 302, walker.last[:500]
        for _ in range(2):  # consent, then gone before the first questions
            person().consent()
        person().consent("no")
    finally:
        app.extensions["framelab.engine"].dispose()


def _close(url: str) -> None:
    """The owner's confirmed close (DECISIONS rule 2), so the exports are final, not interim."""
    from framelab.services.study_versions import set_status
    from tests.factories import session_for

    with session_for(url) as session:
        set_status(session, SLUG, "closed", now=START)


def build_exports(folder: Path, formats: tuple[str, ...], stem: str = SLUG) -> dict[str, Path]:
    """The fixture study exported in `formats` into `folder` as `<stem>.<extension>`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{Path(work) / 'fixture.sqlite'}"
        _cli(url, "init-db")
        _cli(url, "load-study", str(EXAMPLE), "--status", "live")
        _walk(url)
        _close(url)  # final data: an export before the target would be stamped interim
        for fmt in formats:
            path = folder / f"{stem}.{EXTENSIONS[fmt]}"
            _cli(url, "export", SLUG, "--format", fmt, "--out", str(path))
            paths[fmt] = path
    return paths


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/reference")
    for written in build_exports(target, ("sav", "dta"), stem=REFERENCE_STEM).values():
        print(written)
