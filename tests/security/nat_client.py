"""Participants arriving at a served framelab from one network namespace (one source address).

Run inside a namespace by tests/security/test_carrier_nat_netns.py:

    ip netns exec NS python -m tests.security.nat_client BASE_URL MODE N THREADS

MODE `browsers`: N new phones, each a browser of its own (its own cookies), opening the
study link (GET) and consenting (POST), as an SMS blast's recipients do behind one carrier
address. MODE `flood`: one machine that opened the link once and then posts the consent
N times with that first cookie and token, as fast as it can (every post a new
participant: the cookie never holds the code the previous post was given).

Prints one JSON line: the consent statuses counted, the seconds the run took, the
seconds until the first 429 (null if none), and how many consents were admitted before it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx

from framelab.testing.forms import page_form, parse_page

SLUG = "torture-ban"


def _form(page: str) -> tuple[str, str]:
    form = page_form(parse_page(page)[0])
    token = form.fields.get("csrf_token") if form is not None else None
    if token is None:
        raise RuntimeError(f"no CSRF token on the study page: {page[:300]!r}")
    return (form.action if form.method == "post" else f"/s/{SLUG}"), token.value


def _send(client: httpx.Client, jar: dict[str, str], method: str, path: str, **kwargs):
    """A request with the cookies of `jar`, which learns the response's cookies.

    The server runs with production settings, so its cookies are Secure; a phone would
    send them back over HTTPS. Here the link is plain HTTP, so the jar is kept by hand.
    """
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else None
    response = client.request(method, path, headers=headers, **kwargs)
    client.cookies.clear()
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        value = rest.split(";", 1)[0]
        if value and "max-age=0" not in header.lower():
            jar[name] = value
        else:
            jar.pop(name, None)
    return response


def main(base_url: str, mode: str, n: int, threads: int) -> dict:
    started = time.monotonic()
    lock = threading.Lock()
    statuses: list[tuple[float, int]] = []
    odd: list[str] = []  # the first unexpected answer, to say why
    local = threading.local()

    def client() -> httpx.Client:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base_url, timeout=60.0)
        return local.client

    def record(status: int) -> None:
        with lock:
            statuses.append((time.monotonic() - started, status))

    if mode == "browsers":

        def one(_: int) -> None:
            jar: dict[str, str] = {}  # a phone of its own
            with httpx.Client(base_url=base_url, timeout=60.0) as phone:
                page = _send(phone, jar, "GET", f"/s/{SLUG}", params={"src": "sms"})
                if page.status_code != 200:
                    record(page.status_code)
                    return
                action, token = _form(page.text)
                form = {"csrf_token": token, "step": "consent", "consent": "yes"}
                consent = _send(phone, jar, "POST", action, data=form)
                if consent.status_code not in (302, 303) and not odd:
                    odd.append(f"{action} -> {consent.status_code}: {consent.text[:400]}")
                record(consent.status_code)

    elif mode == "flood":
        first: dict[str, str] = {}
        with httpx.Client(base_url=base_url, timeout=60.0) as opener:
            page = _send(opener, first, "GET", f"/s/{SLUG}")
            action, token = _form(page.text)

        def one(_: int) -> None:
            jar = dict(first)  # forget the code the previous post was given
            form = {"csrf_token": token, "step": "consent", "consent": "yes"}
            record(_send(client(), jar, "POST", action, data=form).status_code)

    else:
        raise SystemExit(f"mode: {mode!r} is not browsers or flood")
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(n)))
    elapsed = time.monotonic() - started
    ordered = sorted(statuses)
    first_refusal = next((t for t, status in ordered if status == 429), None)
    admitted_before = sum(
        1
        for t, status in ordered
        if status in (302, 303) and (first_refusal is None or t < first_refusal)
    )
    return {
        "statuses": dict(Counter(str(status) for _, status in statuses)),
        "seconds": round(elapsed, 2),
        "first_429_after": None if first_refusal is None else round(first_refusal, 2),
        "admitted_before_first_429": admitted_before,
        **({"first_unexpected": odd[0]} if odd else {}),
    }


if __name__ == "__main__":
    url, how, count, workers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(main(url, how, count, workers)))
