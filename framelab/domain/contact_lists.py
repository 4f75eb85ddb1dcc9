"""Reading an uploaded list of contact ids (CSV) and writing the list of links (pure).

The campaign uploads its own contact ids (one column of a CSV it exported from its
bulk-SMS or mailing tool) and gets back a CSV of one link per contact. Reading checks
the whole file before anything is stored: a problem refuses the file with a message
that names rows and columns, never a contact id (messages can end up in logs).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

MAX_BYTES = 5_000_000
MAX_CONTACTS = 100_000
MAX_ID_LENGTH = 200
# A value starting with one of these is run as a formula by spreadsheets; a phone
# number's leading + or - is fine when only digits and spaces follow.
_FORMULA_START = ("=", "+", "-", "@")
_SHOWN_ROWS = 5


class ContactListError(ValueError):
    """An uploaded list that cannot be read; the message says what to fix."""


def _text(data: bytes) -> str:
    if not data.strip():
        raise ContactListError("The file is empty: upload a CSV with a header row.")
    if len(data) > MAX_BYTES:
        raise ContactListError(
            f"The file is larger than {MAX_BYTES // 1_000_000} MB: split the list and upload "
            "each part as its own list."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContactListError(
            "The file is not UTF-8 text: save it from your spreadsheet as 'CSV UTF-8'."
        ) from None


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _column(header: list[str], column: str) -> int:
    names = [name.strip() for name in header]
    listed = ", ".join(f"'{n}'" for n in names if n) or "none"
    wanted = column.strip()
    if not wanted:
        if len(names) == 1:
            return 0
        raise ContactListError(
            f"The file has several columns ({listed}): say which one holds the contact ids."
        )
    matches = [i for i, name in enumerate(names) if name.casefold() == wanted.casefold()]
    if not matches:
        raise ContactListError(
            f"The file has no column '{wanted}' in its header row; its columns are {listed}."
        )
    if len(matches) > 1:
        raise ContactListError(f"The file has more than one column '{wanted}'.")
    return matches[0]


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_SHOWN_ROWS])
    more = f" and {len(rows) - _SHOWN_ROWS} more" if len(rows) > _SHOWN_ROWS else ""
    return f"{shown}{more}"


def _unsafe(value: str) -> bool:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return True
    if not value.startswith(_FORMULA_START):
        return False
    rest = value[1:].replace(" ", "")
    return value[0] == "=" or value[0] == "@" or not rest.isdigit()


def read_contact_ids(data: bytes, column: str = "") -> list[str]:
    """The contact ids of an uploaded CSV's `column` (header name), each once, in file order.

    `column` may be empty when the file has a single column. Blank lines are skipped;
    a row without an id in the column, an id over MAX_ID_LENGTH characters, and an id a
    spreadsheet would run as a formula refuse the whole file (ContactListError).
    """
    text = _text(data)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), _dialect(text)))
    except csv.Error as error:
        raise ContactListError(f"The file is not a readable CSV ({error}).") from None
    rows = [
        (number, row) for number, row in enumerate(rows, start=1) if any(c.strip() for c in row)
    ]
    if not rows:
        raise ContactListError("The file is empty: upload a CSV with a header row.")
    index = _column(rows[0][1], column)
    missing, too_long, unsafe = [], [], []
    found: dict[str, None] = {}
    for number, row in rows[1:]:
        value = row[index].strip() if index < len(row) else ""
        if not value:
            missing.append(number)
        elif len(value) > MAX_ID_LENGTH:
            too_long.append(number)
        elif _unsafe(value):
            unsafe.append(number)
        else:
            found[value] = None
    problems = []
    if missing:
        problems.append(f"no contact id in line {_rows_text(missing)}")
    if too_long:
        problems.append(
            f"a contact id over {MAX_ID_LENGTH} characters in line {_rows_text(too_long)}"
        )
    if unsafe:
        problems.append(
            "a contact id with a control character or one a spreadsheet would run as a "
            f"formula (starting with =, @, or + or - not followed by digits) in line "
            f"{_rows_text(unsafe)}"
        )
    if problems:
        raise ContactListError(f"Nothing was stored. The file has {'; '.join(problems)}.")
    if not found:
        raise ContactListError("The file has a header row but no contact ids below it.")
    if len(found) > MAX_CONTACTS:
        raise ContactListError(
            f"The file has more than {MAX_CONTACTS} contact ids: split it into several lists."
        )
    return list(found)


def links_csv(rows: Iterable[tuple[str, str]]) -> bytes:
    """The CSV a bulk-SMS or mailing tool takes: a header, then (contact_id, link) per row."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("contact_id", "link"))
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
