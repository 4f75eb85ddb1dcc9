"""A study's texts as a translator's file (CSV or PO), and reading one back.

texts_csv(spec) -> str                 # key, language, default_text, text: one row per text
                                       # and language (every language but the default)
texts_po(spec, lang) -> bytes          # one language as a gettext PO file (msgctxt = key)
read_translator_file(spec, data, filename, lang=None) -> TranslatorFile

Interface strings (buttons, errors, progress) travel in the same files under the key
``interface:<English string>``: a language framelab ships a catalog for only needs the
strings the study overrides, a language it does not ship needs them all.

Reading never applies anything by itself: it returns, per language, the texts and
interface strings it could use, and every row it could not, with its line and the
reason, so the studio can save the rest and show what was left out. An empty text
leaves the study's text as it is (a translator's file often has gaps).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po, write_po

from framelab.domain.study import Study
from framelab.domain.translation import (
    SHIPPED_LANGUAGES,
    interface_msgids,
    placeholders,
    text_units,
)

CSV_HEADER = ("key", "language", "default_text", "text")
INTERFACE = "interface:"


@dataclass
class TranslatorFile:
    """What a translator's file holds for the study, and the rows that could not be used."""

    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    # Untranslated texts the file gives unchanged on purpose (a name, a number): kept.
    keep: dict[str, set[str]] = field(default_factory=dict)
    interface: dict[str, dict[str, str]] = field(default_factory=dict)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    empty: int = 0
    same: int = 0

    @property
    def usable(self) -> int:
        changes = (*self.texts.values(), *self.keep.values(), *self.interface.values())
        return sum(map(len, changes))


def _interface_rows(spec: Study, lang: str) -> list[tuple[str, str]]:
    """(msgid, study's text) of the interface strings a translator should see for `lang`."""
    own = spec.translation.interface.get(lang, {}) if spec.translation else {}
    if lang.split("-")[0] in SHIPPED_LANGUAGES:
        return sorted(own.items())
    return [(m, own.get(m, "")) for m in interface_msgids()]


def texts_csv(spec: Study) -> str:
    """Every text of the study in every language but the default, one row each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    default = spec.default_language
    units = text_units(spec)
    untranslated = spec.translation.untranslated if spec.translation else {}
    for lang in spec.languages:
        if lang == default:
            continue
        todo = set(untranslated.get(lang, ()))
        for unit in units:
            text = "" if unit.key in todo else unit.text(spec, lang) or ""
            writer.writerow((unit.key, lang, unit.text(spec, default) or "", text))
        for msgid, text in _interface_rows(spec, lang):
            writer.writerow((INTERFACE + msgid, lang, msgid, text))
    return out.getvalue()


def _catalog(lang: str, spec: Study) -> Catalog:
    try:
        locale: str | None = str(Locale.parse(lang.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        locale = None
    return Catalog(
        locale=locale,
        project=f"framelab study {spec.slug}",
        header_comment=(
            f"# Texts of the framelab study {spec.slug} in '{lang}'.\n"
            f"# msgid is the {spec.default_language} text; msgctxt names the text in the study.\n"
            "# Leave a msgstr empty to keep the study's text as it is."
        ),
    )


def texts_po(spec: Study, lang: str) -> bytes:
    """The texts of `lang` as a PO file: msgctxt the key, msgid the default language's text."""
    if lang not in spec.languages or lang == spec.default_language:
        raise LookupError(
            f"language: '{lang}' is not a translated language of {spec.slug} "
            f"(translated: {', '.join(x for x in spec.languages if x != spec.default_language)})"
        )
    catalog = _catalog(lang, spec)
    todo = set(spec.translation.untranslated.get(lang, ())) if spec.translation else set()
    for unit in text_units(spec):
        text = "" if unit.key in todo else unit.text(spec, lang) or ""
        catalog.add(unit.text(spec, spec.default_language) or "", text, context=unit.key)
    for msgid, text in _interface_rows(spec, lang):
        flags = ("python-format",) if placeholders(msgid) else ()
        catalog.add(msgid, text, context=INTERFACE + msgid, flags=flags)
    out = io.BytesIO()
    write_po(out, catalog, width=0, no_location=True)
    return out.getvalue()


def _rows_from_csv(data: bytes) -> list[tuple[int, str, str, str, str]]:
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header[:4]) != CSV_HEADER:
        raise ValueError(f"file: expected a CSV whose first row is {', '.join(CSV_HEADER)}")
    rows = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        cells = [*row, "", "", "", ""][:4]
        rows.append((reader.line_num, *(c if i == 3 else c.strip() for i, c in enumerate(cells))))
    return rows


def _rows_from_po(data: bytes, lang: str | None) -> list[tuple[int, str, str, str, str]]:
    try:
        catalog = read_po(io.BytesIO(data), abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"file: not a readable PO file ({exc})") from None
    found = lang or (str(catalog.locale).replace("_", "-") if catalog.locale else "")
    if not found:
        raise ValueError("language: the PO file names no language; choose the file's language")
    return [
        (m.lineno, m.context or "", found, m.id, m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    ]


def read_translator_file(
    spec: Study, data: bytes, filename: str, lang: str | None = None
) -> TranslatorFile:
    """The usable texts of a CSV or PO translator's file, and the rows that are not.

    Raises ValueError when the file as a whole cannot be read (wrong kind, no header).
    """
    if filename.lower().endswith(".po"):
        rows = _rows_from_po(data, lang)
    elif filename.lower().endswith(".csv"):
        try:
            rows = _rows_from_csv(data)
        except UnicodeDecodeError:
            raise ValueError("file: the CSV is not UTF-8 text") from None
    else:
        raise ValueError(f"file: expected a .csv or .po file, got {filename!r}")
    units = {unit.key: unit for unit in text_units(spec)}
    msgids = set(interface_msgids())
    notes = spec.translation
    untranslated = {lang: set(keys) for lang, keys in (notes.untranslated if notes else {}).items()}
    own = notes.interface if notes else {}
    result = TranslatorFile()
    for line, key, row_lang, source, text in rows:
        if row_lang not in spec.languages:
            result.rejected.append(
                (
                    line,
                    f"{key}: '{row_lang}' is not a language of the study ({', '.join(spec.languages)})",
                )
            )
        elif row_lang == spec.default_language:
            result.rejected.append(
                (line, f"{key}: '{row_lang}' is the default language; edit it in the studio")
            )
        elif not text.strip():
            result.empty += 1
        elif key.startswith(INTERFACE):
            msgid = key[len(INTERFACE) :]
            if msgid not in msgids:
                result.rejected.append((line, f"{key}: not an interface string of framelab"))
            elif placeholders(text) != placeholders(msgid):
                result.rejected.append(
                    (line, f"{key}: needs the placeholders {', '.join(placeholders(msgid))}")
                )
            elif own.get(row_lang, {}).get(msgid) == text.strip():
                result.same += 1
            else:
                result.interface.setdefault(row_lang, {})[msgid] = text.strip()
        elif key not in units:
            result.rejected.append((line, f"{key}: not a text of this study"))
        else:
            current = units[key].text(spec, spec.default_language)
            if source and source.strip() != (current or "").strip():
                result.warnings.append(
                    (
                        line,
                        f"{key}: the {spec.default_language} text changed since the file was "
                        f"made; check that the translation still fits",
                    )
                )
            text = text.replace("\r\n", "\n")
            if text != units[key].text(spec, row_lang):
                result.texts.setdefault(row_lang, {})[key] = text
            elif key in untranslated.get(row_lang, ()):
                result.keep.setdefault(row_lang, set()).add(key)
            else:
                result.same += 1
    return result
