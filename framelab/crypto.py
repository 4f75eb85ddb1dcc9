"""Optional encryption at rest of free-text answers (Fernet, key from FRAMELAB_TEXT_KEY).

Free text is where participants write things that can identify or endanger them,
so an operator can keep it encrypted in the database: a stolen database file or
backup then holds no readable comments unless the key was stolen too.

- FRAMELAB_TEXT_KEY unset: text answers are stored as written (the default).
- FRAMELAB_TEXT_KEY set: new text answers are stored as ``fl1:<Fernet token>``;
  exports decrypt them. Several keys separated by commas rotate keys: the first
  encrypts, every one decrypts. Make a key with ``framelab text-key`` or
  ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.

Plain stored values (made before the key was set) stay readable; an encrypted value
without the right key raises TextKeyError rather than exporting ciphertext.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from framelab.config import text_key_from_env

__all__ = [
    "PREFIX",
    "TEXT_KEY_ENV",
    "TextKeyError",
    "decrypt_text",
    "encrypt_text",
    "generate_text_key",
    "is_encrypted",
    "text_cipher",
]

TEXT_KEY_ENV = "FRAMELAB_TEXT_KEY"
# Marks an encrypted value, so plain rows from before the key was set still read back.
PREFIX = "fl1:"


class TextKeyError(ValueError):
    """FRAMELAB_TEXT_KEY is malformed, missing for encrypted data, or not the key used."""


def generate_text_key() -> str:
    """A new random key for FRAMELAB_TEXT_KEY."""
    return Fernet.generate_key().decode("ascii")


@lru_cache(maxsize=8)
def _cipher_for(raw: str) -> MultiFernet:
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    fernets = []
    for n, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise TextKeyError(
                f"{TEXT_KEY_ENV}: key {n} is not a Fernet key (expected 44 characters of "
                "URL-safe base64, as made by `framelab text-key`)"
            ) from None
    return MultiFernet(fernets)


def text_cipher(environ: Mapping[str, str] | None = None) -> MultiFernet | None:
    """The cipher for FRAMELAB_TEXT_KEY (read now, by framelab.config), or None when unset."""
    raw = text_key_from_env(environ)
    return _cipher_for(raw) if raw else None


def is_encrypted(value: str | None) -> bool:
    """True for a value stored by `encrypt_text` with a key."""
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt_text(value: str, environ: Mapping[str, str] | None = None) -> str:
    """The value to store: encrypted when FRAMELAB_TEXT_KEY is set, else `value` itself."""
    cipher = text_cipher(environ)
    if cipher is None:
        return value
    return PREFIX + cipher.encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(value: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The answer as written: decrypts an encrypted stored value, passes plain ones through."""
    if not is_encrypted(value):
        return value
    assert value is not None
    cipher = text_cipher(environ)
    if cipher is None:
        raise TextKeyError(
            f"{TEXT_KEY_ENV}: text answers in this database are encrypted; set "
            f"{TEXT_KEY_ENV} to the key used when they were stored"
        )
    try:
        return cipher.decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise TextKeyError(
            f"{TEXT_KEY_ENV}: this key cannot decrypt the stored text answers (a key used "
            "when they were stored is missing from the list)"
        ) from None
