"""The reviewer's sign-off in a real browser (DECISIONS rule 9), for tests that launch.

invite_reviewer(page, base, slug, email)   # the owner invites on the Members page (1 form)
reviewer_approves(browser, base, slug, email, password)
    # the reviewer signs in in a browser of their own, accepts the invitation if there
    # is one, reads the Review page and approves; returns the forms they submitted
"""

from __future__ import annotations


def invite_reviewer(page, base: str, slug: str, email: str) -> None:
    page.goto(f"{base}/studio/{slug}/members")
    page.fill("#email", email)
    page.select_option("#role", "reviewer")
    page.click("#submit")
    assert email in page.inner_text("main"), "the invitation is not listed"


def reviewer_approves(browser, base: str, slug: str, email: str, password: str) -> int:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    forms = 0
    try:
        page = context.new_page()
        page.goto(f"{base}/studio/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("#submit")
        forms += 1
        accept = page.locator(f"button[name=answer][value=accept]:has-text('{slug}')")
        if accept.count():
            accept.first.click()
            forms += 1
        page.goto(f"{base}/studio/{slug}/review")
        assert "What participants agree to" in page.inner_text("main")
        page.click("#review-approve")
        forms += 1
        assert "Approved by" in page.inner_text("#review-status")
    finally:
        context.close()
    return forms
