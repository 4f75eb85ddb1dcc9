"""The frame library in real Chromium, across two instances.

Instance A runs the example study with real participants (the flow service, every
page), the owner closes it (confirmed), an owner adds its results card and downloads
it signed. Instance B's admin registers A's public key (copied from A's library page),
imports A's card and two more A signed, sees a tampered card refused, and reads the
pooled figure for care frames, which must be analysis.meta's on the same cards.
Screenshots go to test-artifacts/; axe-core must find no violation on the pages.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from analysis.meta import random_effects
from framelab import create_app
from framelab.domain.steps import items_for_step
from framelab.services import accounts, card_keys, cards, study_lifecycle
from framelab.services.flow import current_page, submit_step
from tests.conftest import run_axe
from tests.factories import approve, make_study, publish, session_factory_for
from tests.participants import enrol
from tests.support.library_cards import synthetic_card, synthetic_rows
from tests.support.live import serve

pytestmark = pytest.mark.browser

ADMIN, PASSWORD = "admin@example.org", "correct horse battery"
SPEC = make_study(quality__min_cell_size=5)
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PARTICIPANTS = 45


def _answers(spec, step: str, rng: random.Random) -> dict[str, str]:
    form = {}
    for item in items_for_step(spec, step):
        if item.type == "text":
            form[item.id] = "Fine."
        elif item.role == "attention_check":
            form[item.id] = str(item.correct)
        else:
            form[item.id] = str(rng.choice(list(item.allowed_values())))
    return form


def _real_participants(session, slug: str, n: int) -> None:
    rng = random.Random(23)
    for i in range(n):
        clock = T0 + timedelta(minutes=3 * i)
        code = enrol(session, slug, language="en", source="prolific", panel=None, now=clock).code
        for _ in range(10):
            state = current_page(session, code, now=clock)
            if state.step == "debrief":
                break
            form = _answers(state.spec, state.step, rng)
            clock += timedelta(seconds=40)
            assert submit_step(session, code, state.step, form, now=clock).ok


def _instance(tmp_path, name: str, *, with_study: bool) -> tuple[str, dict]:
    url = f"sqlite:///{tmp_path / f'{name}.sqlite'}"
    default = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with session_factory_for(url) as factory, factory() as session:
            accounts.create_user(session, ADMIN, PASSWORD, is_admin=True, now=T0)
            if with_study:
                publish(session, SPEC, status="draft", now=T0)
                approve(session, SPEC.slug, now=T0)
                study_lifecycle.change_status(session, SPEC.slug, "live", now=T0)
                _real_participants(session, SPEC.slug, PARTICIPANTS)
                study_lifecycle.change_status(
                    session, SPEC.slug, "close", now=T0 + timedelta(days=3)
                )
    finally:
        accounts._hasher = default
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "WTF_CSRF_ENABLED": True,
        "CARD_KEY_FILE": str(tmp_path / name / "card_signing_key"),
    }
    return url, config


@pytest.fixture
def two_instances(tmp_path) -> Iterator[tuple[str, str, str]]:
    _, config_a = _instance(tmp_path, "a", with_study=True)
    _, config_b = _instance(tmp_path, "b", with_study=False)
    with ExitStack() as stack:
        url_a = stack.enter_context(serve(create_app(config_a)))
        url_b = stack.enter_context(serve(create_app(config_b)))
        yield url_a, url_b, config_a["CARD_KEY_FILE"]


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/studio/login")
    page.fill("#email", ADMIN)
    page.fill("#password", PASSWORD)
    page.click("#submit")


def _check(page, axe_js, artifacts_dir, name: str, problems: list[str]) -> None:
    page.screenshot(path=str(artifacts_dir / f"{name}.png"), full_page=True)
    for violation in run_axe(page, axe_js):
        problems.append(
            f"{name}: axe {violation['id']} ({violation['impact']}): {violation['nodes']}"
        )


def test_a_card_travels_from_one_instance_to_another_and_the_library_pools_it(
    browser, axe_js, artifacts_dir, two_instances, tmp_path
):
    url_a, url_b, key_file_a = two_instances
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    try:
        # Instance A: the owner adds the closed study's card and downloads it signed.
        _sign_in(page, url_a)
        page.goto(f"{url_a}/studio/library")
        public_a = page.inner_text("code.public-key").strip()
        assert "closed by the owner" in page.inner_text("main")
        page.goto(f"{url_a}/studio/{SPEC.slug}/library-card")
        page.wait_for_load_state("load")
        page.fill("#country", "KE")
        page.fill("#audience", "Adults in Kenya recruited through an online panel")
        page.fill("#messenger-care", "a nurse")
        page.click("button:has-text('Analyse and add the card')")
        assert "The study's results card is in the library." in page.inner_text("main")
        _check(page, axe_js, artifacts_dir, "library-01-card-page", problems)
        with page.expect_download() as download:
            page.click("text=Download the signed card")
        card_path = tmp_path / "a.card.json"
        download.value.save_as(card_path)
        real_card = json.loads(card_path.read_text())["card"]
        assert real_card["study"]["closed_by"] == "owner"
        assert not real_card["study"]["rehearsal"]

        # A also signs two more studies' cards (its other campaigns).
        key_a = card_keys.load_or_create_signing_key(__import__("pathlib").Path(key_file_a))
        assert key_a.public_text == public_a
        files = []
        for row in synthetic_rows()[:2]:
            path = tmp_path / f"{row['study']}.card.json"
            path.write_text(json.dumps(cards.seal(synthetic_card(row), key_a)))
            files.append(path)
        tampered = cards.seal(synthetic_card(synthetic_rows()[2]), key_a)
        tampered["card"]["results"][0]["estimate"] = 0.95
        tampered_path = tmp_path / "tampered.card.json"
        tampered_path.write_text(json.dumps(tampered))

        # Instance B: register A, import its cards, refuse the tampered one.
        _sign_in(page, url_b)
        page.goto(f"{url_b}/studio/library")
        page.wait_for_load_state("load")
        page.fill("#partner-name", "Coalition partner A")
        page.fill("#partner-public_key", public_a)
        page.click("button:has-text('Add partner')")
        assert "Coalition partner A added" in page.inner_text("main")
        for path in [card_path, *files]:
            page.set_input_files("#import-card", str(path))
            page.click("button:has-text('Import card')")
            assert "its signature is valid" in page.inner_text(".flashes")
        page.set_input_files("#import-card", str(tampered_path))
        page.click("button:has-text('Import card')")
        refusal = page.inner_text(".flashes")
        assert "Import refused: card signature: does not match the card" in refusal
        _check(page, axe_js, artifacts_dir, "library-02-refused", problems)

        page.goto(f"{url_b}/studio/library")
        pooled = page.locator(".pooled[data-value='care'][data-outcome='post_support']")
        chosen = [
            r
            for c in (real_card, *(json.loads(p.read_text())["card"] for p in files))
            for r in c["results"]
            if r["arm"] == "care" and r["outcome"] == "post_support" and r["scale"] == "smd"
            and r["subgroup"] is None
        ]  # fmt: skip
        assert len(chosen) == 3
        fit = random_effects([r["estimate"] for r in chosen], [r["std_error"] ** 2 for r in chosen])
        assert pooled.locator(".pooled-estimate").inner_text() == f"{fit.estimate:+.2f}"
        basis = pooled.locator(".pooled-basis").inner_text()
        participants = sum(r["n_treatment"] + r["n_control"] for r in chosen)
        assert "3 studies" in basis and f"{participants:,} participants" in basis
        assert f"{fit.pi_low:+.2f} and {fit.pi_high:+.2f}" in pooled.inner_text()
        assert "Imported from Coalition partner A" in page.inner_text("main")
        # Values with one study (the real card's other frames) are not pooled.
        fairness = page.locator(".pooled[data-value='equality'][data-outcome='post_support']")
        assert "Not pooled: 1 study; pooling needs at least 3." in fairness.inner_text()
        _check(page, axe_js, artifacts_dir, "library-03-pooled", problems)
        page.select_option("#f-country", "KE")
        page.click("button:has-text('Show')")
        assert "country=KE" in page.url
        assert pooled.locator(".pooled-estimate").inner_text() == f"{fit.estimate:+.2f}"
    finally:
        context.close()
    assert not problems, "\n".join(problems)
