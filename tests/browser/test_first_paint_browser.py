"""First paint of every page of the example study on an emulated slow phone link (issue 17).

Real Chromium at 360x740 behind DevTools' network emulation (400 kbit/s each way, 400 ms
latency). Each page's first-contentful-paint is read from the DevTools protocol's page
lifecycle events, never from the page's own JavaScript, so the same measurement works with
scripts off. A page's time runs from its navigation's first request (the form's POST for
every page after the first, its redirect included) to the first contentful paint.

The target is 1.0 s per page; the test prints the figures (and writes them to the test's
artifacts folder as JSON) and fails only on a gross regression (over 2 s), or when a page
grows past 30 KB.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import pytest

from tests.browser.test_participant_browser import SPEC, VIEWPORT, answer_items
from tests.support.live import serve
from tests.web.conftest import make_app

pytestmark = pytest.mark.browser

KBIT = 1000 / 8  # bytes per second in one kbit/s
SLOW_LINK = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400 * KBIT,
    "uploadThroughput": 400 * KBIT,
}
TARGET_SECONDS = 1.0
GROSS_REGRESSION_SECONDS = 2.0
MAX_PAGE_BYTES = 30_000
FLOW = ("consent", "pre", "message", "post", "intent", "debrief")


@dataclass
class Figures:
    page: str
    lang: str
    javascript: bool
    first_paint: float
    requests: int
    transferred: int
    html_raw: int
    html_gzip: int


class PaintMeter:
    """First contentful paint, network requests and bytes per navigation, from CDP events."""

    def __init__(self, cdp) -> None:
        self.loaders: list[str] = []
        self.start: dict[str, float] = {}
        self.paint: dict[str, float] = {}
        self.loader_of: dict[str, str] = {}
        self.from_cache: set[str] = set()
        self.transferred: dict[str, int] = defaultdict(int)
        self.requests: dict[str, int] = defaultdict(int)
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.requestServedFromCache", self._cached)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Page.lifecycleEvent", self._lifecycle)
        cdp.send("Network.enable")
        cdp.send("Page.enable")
        cdp.send("Page.setLifecycleEventsEnabled", {"enabled": True})
        cdp.send("Network.emulateNetworkConditions", SLOW_LINK)

    def _request(self, event: dict) -> None:
        loader = event.get("loaderId", "")
        self.loader_of[event["requestId"]] = loader
        if event.get("type") == "Document" and loader not in self.start:
            self.start[loader] = event["timestamp"]
            self.loaders.append(loader)

    def _cached(self, event: dict) -> None:
        self.from_cache.add(event["requestId"])

    def _response(self, event: dict) -> None:
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.from_cache.add(event["requestId"])

    def _finished(self, event: dict) -> None:
        request_id = event["requestId"]
        loader = self.loader_of.get(request_id)
        if loader is None or request_id in self.from_cache:
            return
        self.requests[loader] += 1
        self.transferred[loader] += int(event.get("encodedDataLength", 0))

    def _lifecycle(self, event: dict) -> None:
        if event["name"] == "firstContentfulPaint":
            self.paint.setdefault(event["loaderId"], event["timestamp"])

    def navigation(self, page, since: int, timeout: float = 20.0) -> str:
        """The first navigation after the `since`-th that has painted (waiting for it)."""
        waited = 0.0
        while waited < timeout:
            for loader in self.loaders[since:]:
                if loader in self.paint:
                    page.wait_for_load_state("load")
                    page.wait_for_timeout(100)  # late subresources' loadingFinished
                    return loader
            page.wait_for_timeout(50)
            waited += 0.05
        raise AssertionError(f"no first contentful paint within {timeout} s")


def walk_flow(browser, base_url: str, lang: str, javascript: bool) -> list[Figures]:
    """One participant through the example study on the slow link: figures per page."""
    context = browser.new_context(
        viewport=VIEWPORT, device_scale_factor=1, locale=lang, java_script_enabled=javascript
    )
    page = context.new_page()
    documents: list[bytes] = []

    def keep_document(response) -> None:
        if response.request.resource_type == "document" and response.status == 200:
            documents.append(response.body())

    page.on("response", keep_document)
    meter = PaintMeter(context.new_cdp_session(page))
    figures: list[Figures] = []
    try:
        for step in FLOW:
            since = len(meter.loaders)
            documents.clear()
            if step == "consent":
                page.goto(f"{base_url}/s/{SPEC.slug}?lang={lang}")
            elif step == "pre":
                page.click("button[name=consent][value=yes]")
            else:
                page.click("form.page-form button[type=submit]")
            loader = meter.navigation(page, since)
            html = documents[-1]
            figures.append(
                Figures(
                    page=step,
                    lang=lang,
                    javascript=javascript,
                    first_paint=round(meter.paint[loader] - meter.start[loader], 3),
                    requests=meter.requests[loader],
                    transferred=meter.transferred[loader],
                    html_raw=len(html),
                    html_gzip=len(gzip.compress(html, 6)),
                )
            )
            assert f'lang="{lang}"' in html.decode()[:200]
            if step in ("pre", "post", "intent"):
                answer_items(page, step)
    finally:
        context.close()
    return figures


@pytest.fixture
def live_server(tmp_path) -> Iterator[str]:
    app = make_app(f"sqlite:///{tmp_path / 'paint.sqlite'}")
    with serve(app) as url:
        yield url


def table(figures: list[Figures]) -> str:
    head = f"{'page':9} {'lang':4} {'js':3} {'paint s':>7} {'req':>3} {'wire B':>7} {'raw B':>6} {'gzip B':>6}"
    rows = [
        f"{f.page:9} {f.lang:4} {'on' if f.javascript else 'off':3} {f.first_paint:7.3f} "
        f"{f.requests:3d} {f.transferred:7d} {f.html_raw:6d} {f.html_gzip:6d}"
        for f in figures
    ]
    return "\n".join([head, *rows])


def test_every_page_of_the_example_study_paints_fast_on_a_slow_phone_link(
    browser, live_server, artifacts_dir
):
    figures: list[Figures] = []
    for lang in ("en", "ar"):
        for javascript in (True, False):
            figures += walk_flow(browser, live_server, lang, javascript)
    print("\nFirst contentful paint on 400 kbit/s, 400 ms latency (target 1.0 s):")
    print(table(figures))
    (artifacts_dir / "first_paint.json").write_text(
        json.dumps([asdict(f) for f in figures], indent=1), encoding="utf-8"
    )
    assert len(figures) == 4 * len(FLOW)
    slow = [f for f in figures if f.first_paint > GROSS_REGRESSION_SECONDS]
    assert slow == [], table(slow)
    heavy = [f for f in figures if f.html_raw > MAX_PAGE_BYTES]
    assert heavy == [], table(heavy)
