"""Keyed pseudonyms of panel ids (DECISIONS rule 6): a database dump alone cannot test a guess.

A panel id (Prolific's PROLIFIC_PID, MTurk's workerId, and the panel's study and
session ids) is never stored. What is stored is its pseudonym::

    inner     = sha256(f"{salt}:{id}")        # the salt is the campaign's (`Study.salt`)
    pseudonym = HMAC-SHA256(k_n, ... HMAC-SHA256(k_1, inner))

where k_1 ... k_n is the instance's pseudonym key chain, oldest first, kept in a key
file outside the database (mode 0600; `FRAMELAB_PSEUDONYM_KEY_FILE`, default
`<instance>/pseudonym_key`, created on first use). The salt sits in the same database
as the hashes, so `inner` alone would let anyone holding a dump test a known panel
id in microseconds; the key makes that impossible without the key file too. The key
is not FRAMELAB_SECRET_KEY: operators rotate that one after an incident, which would
silently stop recognising every earlier panel id.

Releases before s008 stored `inner` itself; migration s008 replaced each stored value
by HMAC(k_1, inner), which is exactly the chain above, so old and new rows match.

Rotation (`framelab rotate-pseudonym-key`) cannot recompute anything from the raw ids
(they were never stored), so it extends the chain: it draws k_{n+1}, replaces every
stored pseudonym p by HMAC(k_{n+1}, p) in one transaction, and appends k_{n+1} to the
key file. Afterwards a dump tests a guess only with every key of the chain; a dump
taken before the rotation stays as testable as it was with the keys of its day.

The database keeps a check value (`pseudonym_check`): the chain applied to a fixed
input. It tells a key file that does not belong to the database (a lost or mixed-up
key file would otherwise make every returning panel id look new) and which side of an
interrupted rotation the database is on.

This module never imports Flask: the web layer and the CLI pass the key in.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from framelab.db.models import PseudonymCheck

__all__ = [
    "KEY_FILE_ENV",
    "KEY_FILE_NAME",
    "PSEUDONYM_COLUMNS",
    "TESTING_KEY",
    "PseudonymKey",
    "PseudonymKeyError",
    "Rotation",
    "key_file_path",
    "load_key",
    "load_or_create_key",
    "record_check",
    "rotate",
    "salted",
    "verify_database",
]

KEY_FILE_ENV = "FRAMELAB_PSEUDONYM_KEY_FILE"
KEY_FILE_NAME = "pseudonym_key"
KEY_BYTES = 32
_HEADER = (
    "# framelab pseudonym key chain (docs/privacy.md): one key per line, oldest first.\n"
    "# Keep it secret, and back it up with the database: without it no returning panel\n"
    "# id is recognised. Change it only with `framelab rotate-pseudonym-key`.\n"
)
# The fixed input whose pseudonym the database keeps as its check value.
_CHECK_INPUT = "framelab.pseudonym-check"
_CHECK_ID = 1
# Every stored pseudonym: rotation re-keys all of them (add invitation/contact ids here).
PSEUDONYM_COLUMNS: dict[str, tuple[str, ...]] = {
    "participant": ("panel_hash", "panel_study_hash", "panel_session_hash"),
    "recipient": ("pseudonym",),  # invitation lists' contact ids (framelab.db.reach)
}


class PseudonymKeyError(RuntimeError):
    """The pseudonym key file is missing, malformed or does not belong to this database."""


def salted(salt: str, value: str) -> str:
    """sha256(salt:value), hex: the unkeyed inner hash (what releases before s008 stored)."""
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()


def _mac(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PseudonymKey:
    """The key chain, oldest key first."""

    chain: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not self.chain:
            raise PseudonymKeyError("pseudonym key: the chain has no key")

    def rekey(self, inner: str) -> str:
        """The chain applied to an inner hash (or to any stored value, for the check)."""
        value = inner
        for key in self.chain:
            value = _mac(key, value)
        return value

    def pseudonym(self, salt: str, value: str) -> str:
        """What is stored for the id `value` under the campaign salt `salt`."""
        return self.rekey(salted(salt, value))

    @property
    def check(self) -> str:
        """The chain's check value (kept in the database's `pseudonym_check`)."""
        return self.rekey(salted("", _CHECK_INPUT))

    def extended(self) -> tuple[PseudonymKey, bytes]:
        """The chain with one new random key appended, and that key."""
        new = secrets.token_bytes(KEY_BYTES)
        return PseudonymKey((*self.chain, new)), new


# Tests without a configured key file use this one, like the fixed testing secret key.
TESTING_KEY = PseudonymKey((hashlib.sha256(b"framelab-testing-pseudonym-key").digest(),))


def key_file_path(
    environ: Mapping[str, str] | None = None, instance_path: str | os.PathLike | None = None
) -> Path:
    """FRAMELAB_PSEUDONYM_KEY_FILE, else `pseudonym_key` in the instance folder."""
    from framelab.config import instance_key_file

    return instance_key_file(KEY_FILE_ENV, KEY_FILE_NAME, environ, instance_path)


def _parse(path: Path, text: str) -> PseudonymKey:
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key = bytes.fromhex(line)
        except ValueError:
            key = b""
        if len(key) != KEY_BYTES:
            raise PseudonymKeyError(
                f"{path}: line {number} is not a key ({KEY_BYTES * 2} hexadecimal digits); "
                "restore the file from your backup"
            )
        keys.append(key)
    if not keys:
        raise PseudonymKeyError(f"{path}: the pseudonym key file holds no key")
    return PseudonymKey(tuple(keys))


def _render(key: PseudonymKey) -> str:
    return _HEADER + "".join(k.hex() + "\n" for k in key.chain)


def load_key(path: Path) -> PseudonymKey:
    """The key chain in `path`; PseudonymKeyError when it is missing or malformed."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise PseudonymKeyError(
            f"{path}: no pseudonym key file. Restore it from your backup (or set "
            f"{KEY_FILE_ENV} to where it is)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PseudonymKeyError(
            f"{path}: the pseudonym key file cannot be read ({error})"
        ) from None
    return _parse(path, text)


def _write_new(path: Path, key: PseudonymKey) -> None:
    """Write `key` to a file that must not exist yet (mode 0600, flushed to disk)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(_render(key))
        handle.flush()
        os.fsync(handle.fileno())


def load_or_create_key(path: Path) -> PseudonymKey:
    """The key chain in `path`, made (one random key, mode 0600) when the file does not exist.

    Two processes starting together end up with the same key (the file is created with
    O_EXCL; the loser reads the winner's). Whether a new key suits the database is
    `verify_database`'s question: a database that already holds pseudonyms refuses it.
    """
    if path.exists():
        return load_key(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = PseudonymKey((secrets.token_bytes(KEY_BYTES),))
    try:
        _write_new(path, key)
    except FileExistsError:
        return load_key(path)
    return key


# ---------------------------------------------------------------- the database's check value

_check = PseudonymCheck.__table__


def _stored_check(conn: Connection) -> str | None:
    return conn.scalar(sa.select(_check.c.value).where(_check.c.id == _CHECK_ID))


def _holds_pseudonyms(conn: Connection) -> bool:
    for table, columns in PSEUDONYM_COLUMNS.items():
        t = sa.table(table, *(sa.column(c) for c in columns))
        found = conn.scalar(
            sa.select(sa.literal(1)).where(sa.or_(*(t.c[c].is_not(None) for c in columns))).limit(1)
        )
        if found is not None:
            return True
    return False


def _mismatch(path: Path | None) -> PseudonymKeyError:
    where = f"{path}" if path is not None else "the configured key"
    return PseudonymKeyError(
        f"{where}: this pseudonym key does not belong to this database (its check value "
        "differs). Returning panel ids would all look new. Restore the key file that was "
        f"in use with this database (set {KEY_FILE_ENV} to it); if a rotation was "
        "interrupted, run `framelab rotate-pseudonym-key` again to finish it"
    )


def verify_database(
    engine: Engine | Connection, key: PseudonymKey, *, now: datetime, path: Path | None = None
) -> None:
    """Check that `key` is the database's key; a database without a check value adopts it.

    Raises PseudonymKeyError when the database's check value was made with another
    key, and when a database holding pseudonyms has no check value (they were made with
    a key nobody can name now). With a Connection the work joins its transaction.
    """
    if isinstance(engine, Connection):
        stored = _stored_check(engine)
        if stored is None:
            _adopt(engine, key, now)
    else:
        with engine.connect() as conn:
            stored = _stored_check(conn)
        if stored is None:
            try:
                with engine.begin() as conn:
                    _adopt(conn, key, now)
            except IntegrityError:  # another process adopted a key meanwhile
                with engine.connect() as conn:
                    stored = _stored_check(conn)
    if stored is not None and not hmac.compare_digest(stored, key.check):
        raise _mismatch(path)


def _adopt(conn: Connection, key: PseudonymKey, now: datetime) -> None:
    if _holds_pseudonyms(conn):
        raise PseudonymKeyError(
            "pseudonym_check: this database holds pseudonyms but no check value "
            "(upgrade it with `framelab init-db`, which keys them)"
        )
    record_check(conn, key, now=now)


def record_check(conn: Connection, key: PseudonymKey, *, now: datetime) -> None:
    """Store `key`'s check value in a database that has none (migration s008 keys old rows)."""
    conn.execute(_check.insert().values(id=_CHECK_ID, value=key.check, changed_at=now))


# ---------------------------------------------------------------- rotation


@dataclass(frozen=True)
class Rotation:
    """What `rotate` did: the values re-keyed per table and the chain's new length."""

    rekeyed: dict[str, int]
    keys: int
    resumed: bool = False


def _pending_path(path: Path) -> Path:
    return path.with_name(path.name + ".rotating")


def _replace(pending: Path, path: Path) -> None:
    os.replace(pending, path)
    with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _rekey_rows(conn: Connection, new_key: bytes) -> dict[str, int]:
    counts = {}
    for table, columns in PSEUDONYM_COLUMNS.items():
        t = sa.table(table, sa.column("id"), *(sa.column(c) for c in columns))
        rows = conn.execute(
            sa.select(t.c.id, *(t.c[c] for c in columns)).where(
                sa.or_(*(t.c[c].is_not(None) for c in columns))
            )
        ).all()
        for row in rows:
            values = {
                c: _mac(new_key, row[i + 1])
                for i, c in enumerate(columns)
                if row[i + 1] is not None
            }
            conn.execute(t.update().where(t.c.id == row.id).values(values))
        counts[table] = sum(
            1 for row in rows for i in range(len(columns)) if row[i + 1] is not None
        )
    return counts


def rotate(engine: Engine, path: Path, *, now: datetime) -> Rotation:
    """Append a new key to the chain and re-key every stored pseudonym with it.

    Run it with the app stopped (a worker would keep hashing with the chain it loaded).
    Order, so that no crash loses the way back: the extended chain is written to
    `<key file>.rotating` (0600) first; one database transaction re-keys every stored
    pseudonym and the check value; then the extended chain replaces the key file. Run
    again after an interruption, it finishes (or restarts) the rotation according to
    the database's check value.
    """
    pending = _pending_path(path)
    current = load_key(path)
    if pending.exists():
        resumed = _finish_interrupted(engine, path, pending, current)
        if resumed is not None:
            return resumed
    verify_database(engine, current, now=now, path=path)
    extended, new_key = current.extended()
    _write_new(pending, extended)
    try:
        with engine.begin() as conn:
            counts = _rekey_rows(conn, new_key)
            conn.execute(
                _check.update()
                .where(_check.c.id == _CHECK_ID)
                .values(value=extended.check, changed_at=now)
            )
    except BaseException:
        pending.unlink(missing_ok=True)  # the database is unchanged: so is the key file
        raise
    _replace(pending, path)
    return Rotation(counts, len(extended.chain))


def _finish_interrupted(
    engine: Engine, path: Path, pending: Path, current: PseudonymKey
) -> Rotation | None:
    """Settle an earlier rotation that stopped between its steps (None: start afresh)."""
    extended = load_key(pending)
    with engine.connect() as conn:
        stored = _stored_check(conn)
    if stored is not None and hmac.compare_digest(stored, extended.check):
        _replace(pending, path)  # the database was re-keyed: the key file follows
        return Rotation({}, len(extended.chain), resumed=True)
    if stored is None or hmac.compare_digest(stored, current.check):
        pending.unlink()  # the database was not re-keyed: forget the half-made chain
        return None
    raise _mismatch(path)
