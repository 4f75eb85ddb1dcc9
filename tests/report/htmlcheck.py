"""Small HTML inspection helpers for report tests (stdlib parser, no snapshots)."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class Collect(HTMLParser):
    """Records every start tag with its attributes, and the text inside <title> of SVGs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.svg_titles: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data):
        if self.stack[-2:] == ["svg", "title"]:
            self.svg_titles.append(data)
        self.text.append(data)

    def find(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]


def parse(html: str) -> Collect:
    parser = Collect()
    parser.feed(html)
    return parser


URL_ATTRS = ("src", "href", "xlink:href", "srcset", "poster", "data", "action")


def external_references(html: str) -> list[str]:
    """Every attribute or CSS url() that would make the browser fetch something."""
    found = []
    for tag, attrs in parse(html).tags:
        for name in URL_ATTRS:
            value = attrs.get(name)
            if value is None:
                continue
            if tag == "a" and name == "href" and not re.match(r"^[a-z]+:", value):
                continue  # relative links to files beside the report load nothing by themselves
            if not value.startswith("#"):
                found.append(f"<{tag} {name}={value!r}>")
    found += [u for u in re.findall(r"url\(([^)]*)\)", html) if not u.strip("'\"").startswith("#")]
    found += re.findall(r"@import[^;]*;", html)
    return found
