"""The studio's password policy (hashing is argon2id, in framelab.services.accounts).

A password is refused, with a message saying why, when it is shorter than
MIN_PASSWORD_LENGTH characters, uses fewer than MIN_DISTINCT_CHARACTERS different
characters ("aaaaaaaaaaaa", "abababababab"), is a run of neighbouring characters
("abcdefghijkl", "987654321098"), contains the name part of the account's e-mail,
or is on the shipped list of 19,640 common passwords (password_lists/NOTICE.txt:
Django's list by Royce Williams, BSD-3-Clause), also when only digits or
punctuation follow a listed password ("sunshine2024!"). Length and the list follow
NIST SP 800-63B (5.1.1.2): no composition rules, no forced periodic changes.
"""

from __future__ import annotations

import gzip
import itertools
import re
from functools import cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this bounds the work per attempt
MIN_DISTINCT_CHARACTERS = 5
COMMON_PASSWORDS = Path(__file__).resolve().parent / "password_lists" / "common-passwords.txt.gz"
ADVICE = "choose another, for example three or four unrelated words"
_TAIL = re.compile(r"[\d\W_]+$")
# Letters in keyboard order (QWERTY, QWERTZ, AZERTY rows, and the columns of QWERTY).
_KEY_RUNS = (
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


class PasswordRefused(ValueError):
    """The password does not meet the policy; the message starts with "password:"."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def _is_run(text: str) -> bool:
    # "abcdefghijkl", "123456789012" (digits wrap around), "zyxwvutsrqpo", "qwertyuiopas"
    if any(text in row or text[::-1] in row for row in _KEY_RUNS):
        return True
    steps = {(ord(b) - ord(a)) for a, b in itertools.pairwise(text)}
    if text.isdigit():
        steps = {s % 10 for s in steps}
        return steps in ({1}, {9})
    return steps in ({1}, {-1})


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why the password is refused (a sentence starting "password:"), or None."""
    length = len(password)
    if length < MIN_PASSWORD_LENGTH:
        return (
            f"password: must be at least {MIN_PASSWORD_LENGTH} characters long "
            f"(this one has {length}); a few unrelated words make a long one easy to remember"
        )
    if length > MAX_PASSWORD_LENGTH:
        return f"password: must be at most {MAX_PASSWORD_LENGTH} characters long"
    lowered = password.lower()
    if len(set(lowered)) < MIN_DISTINCT_CHARACTERS:
        return (
            f"password: uses fewer than {MIN_DISTINCT_CHARACTERS} different characters, "
            f"which makes it easy to guess; {ADVICE}"
        )
    compact = re.sub(r"\s+", "", lowered)
    if _is_run(compact):
        return f"password: is a run of neighbouring keys or letters; {ADVICE}"
    name = (email or "").strip().lower().partition("@")[0]
    if len(name) >= 4 and name in lowered:
        return f"password: must not contain the name of your e-mail address; {ADVICE}"
    listed = common_passwords()
    base = _TAIL.sub("", lowered)
    if lowered in listed or compact in listed or (len(base) >= 4 and base in listed):
        return "password: is on the list of common passwords that attackers try first; " + ADVICE
    return None


def check_password(password: str, *, email: str | None = None) -> None:
    """Raise PasswordRefused when the policy refuses the password."""
    problem = password_problem(password or "", email=email)
    if problem:
        raise PasswordRefused(problem)
