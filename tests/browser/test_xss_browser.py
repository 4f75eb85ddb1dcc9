"""XSS payloads in every text of a study never run in a real browser (Chromium).

The payloads go into frames (titles and Markdown bodies), consent and debrief
texts, question texts, answer labels and arm labels, in every language of the
study (so translations are covered too). A participant then takes the study in
Chromium in English and in Spanish. On every page: the `window.__xss` trap never
fires, no dialog opens, the browser reports no CSP violation (the payloads are
neutralised by escaping and sanitising, not merely blocked), and the DOM holds no
inline script, no on* attribute, no javascript: URL and no frame or object.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from framelab.domain.steps import items_for_step
from framelab.domain.study import study_from_data
from tests.factories import study_data
from tests.support.live import serve
from tests.web.conftest import make_app

pytestmark = pytest.mark.browser

PAYLOADS = (
    "<script>window.__xss='script'</script>",
    "<img src=x onerror=\"window.__xss='img'\">",
    "<svg onload=\"window.__xss='svg'\"></svg>",
    "[tap here](javascript:window.__xss='md-link')",
    "<javascript:window.__xss='autolink'>",
    "\"><script>window.__xss='attr-break'</script>",
    "<iframe src=\"javascript:window.__xss='iframe'\"></iframe>",
    "<details open ontoggle=\"window.__xss='details'\">x</details>",
    "<a href=\"javascript:window.__xss='a'\">link</a>",
    "<style>body{background:url(javascript:window.__xss='css')}</style>",
    "<object data=\"javascript:window.__xss='object'\"></object>",
    "[x](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
    "{{ 7*7 }} {% raw %}",
    "</textarea><script>window.__xss='textarea'</script>",
)
TRAP = """
window.__xss = null;
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""
DOM_PROBLEMS = """() => {
  const out = [];
  for (const s of document.querySelectorAll('script')) if (!s.src) out.push('inline script');
  for (const el of document.querySelectorAll('iframe, object, embed, svg, img, details, body style')) out.push('element ' + el.tagName);
  // The one style element allowed: the study link's page carries the stylesheet in <head>.
  if (document.querySelectorAll('head style').length > 1) out.push('element STYLE in head');
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) out.push('attribute ' + a.name + ' on ' + el.tagName);
      if (/^\\s*(javascript|data):/i.test(a.value) && ['href', 'src', 'action', 'data'].includes(a.name)) out.push(a.name + '=' + a.value);
    }
  }
  return out;
}"""


def poisoned_study_data() -> dict[str, Any]:
    """The example study with a payload appended to every participant-facing text."""
    data = study_data(slug="xss-study")
    languages = set(data["languages"])
    counter = iter(range(10**6))

    def payload() -> str:
        return PAYLOADS[next(counter) % len(PAYLOADS)]

    def poison(node: Any) -> Any:
        if isinstance(node, dict) and node and set(node) <= languages:
            return {
                lang: (
                    f"{text} {payload()}"
                    if isinstance(text, str)
                    else [f"{label} {payload()}" for label in text]
                )
                for lang, text in node.items()
            }
        if isinstance(node, dict):
            return {k: poison(v) for k, v in node.items()}
        if isinstance(node, list):
            return [poison(v) for v in node]
        return node

    for key in ("title", "consent", "debrief", "arms", "items"):
        data[key] = poison(data[key])
    return data


SPEC = study_from_data(poisoned_study_data())


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    app = make_app(f"sqlite:///{tmp_path / 'xss.sqlite'}", studies=(SPEC,))
    with serve(app) as url:
        yield url


def check(page, name: str, problems: list[str], dialogs: list[str]) -> None:
    fired = page.evaluate("window.__xss")
    if fired is not None:
        problems.append(f"{name}: payload ran ({fired})")
    for violation in page.evaluate("window.__violations"):
        problems.append(f"{name}: CSP had to block {violation}")
    problems.extend(f"{name}: {p}" for p in page.evaluate(DOM_PROBLEMS))
    problems.extend(f"{name}: dialog {d}" for d in dialogs)
    dialogs.clear()


def answer(page, step: str) -> None:
    for item in items_for_step(SPEC, step):
        if item.type == "slider":
            page.fill(f"#q-{item.id}-1", "60")
        elif item.type == "text":
            page.fill(f"#q-{item.id}-1", "<script>window.__xss='typed'</script>")
        elif item.role == "attention_check":
            values = item.allowed_values()
            page.check(f"#q-{item.id}-{values.index(item.correct) + 1}")
        else:
            page.check(f"#q-{item.id}-1")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_payloads_in_every_study_text_never_run_in_chromium(browser, live_server, lang):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_init_script(TRAP)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    problems: list[str] = []
    seen_payload_text = 0
    try:
        page.goto(f"{live_server}/s/{SPEC.slug}?lang={lang}")
        for name in ("consent", "pre", "message", "post", "intent"):
            check(page, f"{lang}/{name}", problems, dialogs)
            seen_payload_text += page.content().count("window.__xss")
            if name == "consent":
                page.click("button[name=consent][value=yes]")
            else:
                answer(page, name)
                page.click("form.page-form button[type=submit]")
            page.wait_for_load_state()
        check(page, f"{lang}/debrief", problems, dialogs)
        seen_payload_text += page.content().count("window.__xss")
        # The answer typed as a script is shown back nowhere, and never runs.
        page.goto(f"{live_server}/withdraw")
        check(page, f"{lang}/withdraw", problems, dialogs)
    finally:
        context.close()
    assert problems == []
    # The payloads did reach the pages, as inert text.
    assert seen_payload_text >= 20


def test_the_trap_and_the_dom_probe_catch_a_payload_that_does_run(browser):
    # Without framelab's escaping and CSP, the same payloads run: the checks above can fail.
    context = browser.new_context()
    context.add_init_script(TRAP)
    page = context.new_page()
    try:
        page.set_content(f'<p>{PAYLOADS[0]} {PAYLOADS[1]} <a href="javascript:void(0)">x</a></p>')
        page.wait_for_function("window.__xss !== null")
        problems: list[str] = []
        check(page, "unprotected", problems, [])
    finally:
        context.close()
    assert any("payload ran" in p for p in problems)
    assert any("inline script" in p for p in problems)
    assert any("attribute onerror" in p for p in problems)
    assert any("href=javascript:" in p for p in problems)
