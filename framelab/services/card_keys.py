"""The instance's Ed25519 key pair that signs results cards (DECISIONS rule 6).

A results card leaves the instance as a signed file; a partner who imports it checks
the signature against this instance's public key, which they registered beforehand
(the library page shows it with its fingerprint). The private key lives in a key file
outside the database: `FRAMELAB_CARD_KEY_FILE`, default `<instance>/card_signing_key`,
PEM (PKCS#8), mode 0600, made on first use. It is neither FRAMELAB_SECRET_KEY (rotated
after incidents) nor the pseudonym key: losing it only means partners must register a
new public key; cards signed before stay verifiable with the old public key.

This module never imports Flask: the web layer passes the path in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

__all__ = [
    "KEY_FILE_ENV",
    "KEY_FILE_NAME",
    "TESTING_KEY",
    "CardKeyError",
    "SigningKey",
    "key_file_path",
    "key_id",
    "load_or_create_signing_key",
    "parse_public_key",
    "verify",
]

KEY_FILE_ENV = "FRAMELAB_CARD_KEY_FILE"
KEY_FILE_NAME = "card_signing_key"


class CardKeyError(ValueError):
    """A signing key file or a partner's public key that cannot be used."""


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    """The key's fingerprint: sha256 of its 32 raw bytes, hex (what a card names)."""
    return hashlib.sha256(_raw(public)).hexdigest()


def public_text(public: Ed25519PublicKey) -> str:
    """The public key as partners paste it: base64 of the 32 raw bytes."""
    return base64.b64encode(_raw(public)).decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """The instance's private key, its public half and the public key's fingerprint."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    @property
    def public_text(self) -> str:
        return public_text(self.public)

    def sign(self, message: bytes) -> str:
        """The Ed25519 signature of `message`, base64."""
        return base64.b64encode(self.private.sign(message)).decode("ascii")


# Tests without a configured key file sign with this one, like the fixed testing secret key.
TESTING_KEY = SigningKey(
    Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"framelab-testing-card-key").digest())
)


def key_file_path(
    environ: Mapping[str, str] | None = None, instance_path: str | os.PathLike | None = None
) -> Path:
    """FRAMELAB_CARD_KEY_FILE, else `card_signing_key` in the instance folder."""
    from framelab.config import instance_key_file

    return instance_key_file(KEY_FILE_ENV, KEY_FILE_NAME, environ, instance_path)


def _load(path: Path) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as error:
        raise CardKeyError(
            f"{path}: not an Ed25519 private key in PEM ({error}); restore it from your "
            f"backup or point {KEY_FILE_ENV} at it"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CardKeyError(f"{path}: the key is not an Ed25519 key")
    return SigningKey(key)


def load_or_create_signing_key(path: Path) -> SigningKey:
    """The key pair in `path`, made (mode 0600) when the file does not exist yet.

    Two processes starting together end up with the same key: the file is created
    with O_EXCL and the loser reads the winner's.
    """
    if path.exists():
        return _load(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    return SigningKey(private)


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A partner's public key: base64 of 32 raw bytes (as the library page shows) or PEM."""
    value = (text or "").strip()
    if value.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            key = None
        if not isinstance(key, Ed25519PublicKey):
            raise CardKeyError("public_key: the PEM block is not an Ed25519 public key")
        return key
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise CardKeyError(
            "public_key: expected the partner's Ed25519 public key as 44 characters of "
            "base64 (shown on their library page) or a PEM block"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    """Whether `signature` (base64) is `public`'s Ed25519 signature of `message`."""
    try:
        public.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
