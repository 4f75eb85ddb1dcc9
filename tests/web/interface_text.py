"""What a participant reads on a page, and which interface strings of a catalog it contains.

interface_msgids() -> set[str]                 # every msgid of framelab/translations/messages.pot
catalog_strings(lang) -> dict[str, str]        # msgid -> msgstr of a shipped catalog
readable_text(html) -> str                     # text nodes and the attributes people hear or see
interface_strings_in(html, strings) -> list    # the strings found in the page's readable text
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "framelab" / "translations"
# Attributes a participant sees or a screen reader speaks.
_READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")


def interface_msgids() -> set[str]:
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        return {m.id for m in read_po(handle) if m.id and isinstance(m.id, str)}


def catalog_strings(lang: str) -> dict[str, str]:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and isinstance(m.id, str)}


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in _READ_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def readable_text(html: str) -> str:
    reader = _Reader()
    reader.feed(html)
    return " \n ".join(" ".join(part.split()) for part in reader.parts if part.strip())


def _pattern(msgid: str) -> re.Pattern[str]:
    # Placeholders (%(index)s) match any text; whole words only, so "No" is not found in "Now".
    pieces = [re.escape(" ".join(p.split())) for p in re.split(r"%\(\w+\)s", msgid)]
    return re.compile(r"(?<!\w)" + r".{0,40}?".join(pieces) + r"(?!\w)")


def interface_strings_in(html: str, strings: set[str]) -> list[str]:
    text = readable_text(html)
    return sorted(s for s in strings if _pattern(s).search(text))
