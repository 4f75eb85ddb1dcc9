"""The participant code: what a person copies to resume or withdraw later (issue 17).

Twenty symbols of Crockford's base32 (digits and capitals without I, L, O and U, so
nothing reads as another symbol: 100 random bits), shown in groups of four
(`7KQ2-M9XD-…`) and read back case-insensitively, with spaces and hyphens ignored and
I, L read as 1 and O as 0, as Crockford's decoding does. It is stored without the
hyphens, in capitals. docs/privacy.md ("Guessing a participant code") has the
arithmetic of its length against the rate limits.

Codes made before this format (24 URL-safe base64 characters, case-sensitive) stay
valid: `candidates` offers a typed code both ways.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 20
GROUP = 4
BITS = LENGTH * 5
# Crockford's decoding: lower case is upper case; I and L are 1, O is 0.
_READ = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = str.maketrans("", "", " \t\r\n-\u00a0\u2010\u2011\u2012\u2013\u2014\u2212")


def new_code(choose: Callable[[str], str] = secrets.choice) -> str:
    """A new participant code: LENGTH symbols drawn by `choose` (a CSPRNG's choice)."""
    return "".join(choose(ALPHABET) for _ in range(LENGTH))


def canonical(text: str) -> str | None:
    """The stored form of a code typed in any case, with separators; None if it is not one."""
    symbols = text.translate(_SEPARATORS).upper().translate(_READ)
    if len(symbols) == LENGTH and all(symbol in ALPHABET for symbol in symbols):
        return symbols
    return None


def candidates(text: str) -> tuple[str, ...]:
    """The stored codes a typed `text` may mean: its canonical form, and as typed (older codes)."""
    typed = "".join(text.split())
    found = canonical(typed)
    return tuple(dict.fromkeys(c for c in (found, typed) if c))


def grouped(code: str) -> str:
    """A code as shown to a person: `7KQ2-M9XD-…`; an older code as it is."""
    if canonical(code) != code:
        return code
    return "-".join(code[i : i + GROUP] for i in range(0, LENGTH, GROUP))
