"""Configuration fed from FRAMELAB_* environment variables.

`load_config()` picks a config class from FRAMELAB_ENV (production, development,
testing) and fills it from the environment at call time, so tests can set
variables with monkeypatch. Flask reads the UPPER_CASE attributes with
`app.config.from_object(config)`.

Variables:
- FRAMELAB_DATABASE_URL (or plain DATABASE_URL): SQLAlchemy URL; default a SQLite
  file `framelab.sqlite` in the instance folder.
- FRAMELAB_INSTANCE_PATH: the instance folder; default `./instance`.
- FRAMELAB_SECRET_KEY: signs session cookies; when unset in production or
  development a random key is generated once and kept in `<instance>/secret_key`
  so that every worker process and every restart share it.
- FRAMELAB_ENV: production (default) | development | testing.
- FRAMELAB_REQUIRE_REVIEW: whether a study goes live only after a reviewer approved it
  (DECISIONS rule 9); on by default, `0`/`off` turns it off for the whole instance.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

ENVIRONMENTS = ("production", "development", "testing")


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def instance_path_from_env(environ: Mapping[str, str] | None = None) -> Path:
    """The instance folder: FRAMELAB_INSTANCE_PATH or `instance/` under the working directory."""
    env = _env(environ)
    raw = env.get("FRAMELAB_INSTANCE_PATH")
    return Path(raw).expanduser().resolve() if raw else Path.cwd() / "instance"


def instance_key_file(
    variable: str,
    file_name: str,
    environ: Mapping[str, str] | None = None,
    instance_path: str | os.PathLike | None = None,
) -> Path:
    """A key file's path: the environment `variable` if set, else `file_name` in the
    instance folder (`instance_path`, or the one the environment names)."""
    env = _env(environ)
    raw = env.get(variable, "").strip()
    if raw:
        return Path(raw).expanduser().resolve()
    folder = instance_path_from_env(env) if instance_path is None else Path(instance_path)
    return folder / file_name


def _normalise_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants a dialect+driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """FRAMELAB_DATABASE_URL, else DATABASE_URL, else a SQLite file in the instance folder."""
    env = _env(environ)
    for name in ("FRAMELAB_DATABASE_URL", "DATABASE_URL"):
        value = env.get(name, "").strip()
        if value:
            return _normalise_url(value)
    return f"sqlite:///{instance_path_from_env(env) / 'framelab.sqlite'}"


def make_private_folder(path: Path) -> Path:
    """Create `path` (and missing parents) readable by this user only (0700); an existing
    folder keeps the mode its operator gave it."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def secret_key_from_env(environ: Mapping[str, str] | None = None) -> str:
    """FRAMELAB_SECRET_KEY, else a random key persisted in the instance folder."""
    env = _env(environ)
    value = env.get("FRAMELAB_SECRET_KEY", "").strip()
    if value:
        return value
    path = instance_path_from_env(env) / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    make_private_folder(path.parent)
    key = secrets.token_urlsafe(48)
    # O_EXCL: two workers starting together must end up with the same key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def require_review_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """FRAMELAB_REQUIRE_REVIEW: a reviewer's sign-off before launch; on unless 0/false/no/off."""
    value = _env(environ).get("FRAMELAB_REQUIRE_REVIEW", "").strip().lower()
    if value in ("", "1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(
        f"FRAMELAB_REQUIRE_REVIEW: {value!r} is not on or off (expected 1/0, true/false, yes/no, on/off)"
    )


DEFAULT_MAX_CONTENT_LENGTH = 4 * 1024 * 1024
MIN_MAX_CONTENT_LENGTH = 64 * 1024  # below this a study file could not be uploaded
MAX_FORM_MEMORY_SIZE = 1024 * 1024  # form text (not files); see Config.__init__


def max_content_length_from_env(environ: Mapping[str, str] | None = None) -> int:
    """FRAMELAB_MAX_CONTENT_LENGTH in bytes (at least 64 KiB), else 4 MiB."""
    raw = _env(environ).get("FRAMELAB_MAX_CONTENT_LENGTH", "").strip()
    if not raw:
        return DEFAULT_MAX_CONTENT_LENGTH
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise ValueError(
            f"FRAMELAB_MAX_CONTENT_LENGTH: expected a number of bytes, got {raw!r}"
        ) from None
    if value < MIN_MAX_CONTENT_LENGTH:
        raise ValueError(
            f"FRAMELAB_MAX_CONTENT_LENGTH: expected at least {MIN_MAX_CONTENT_LENGTH} bytes "
            f"(a study file must fit), got {value}"
        )
    return value


class Config:
    """Settings shared by every environment."""

    ENV = "production"
    DEBUG = False
    TESTING = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    WTF_CSRF_ENABLED = True
    BABEL_DEFAULT_LOCALE = "en"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = _env(environ)
        self.REQUIRE_REVIEW = require_review_from_env(env)
        self.INSTANCE_PATH = str(instance_path_from_env(env))
        self.DATABASE_URL = database_url_from_env(env)
        self.SECRET_KEY = self._secret_key(env)
        # Flask refuses larger bodies with a 413 (framelab.web.errors renders it).
        self.MAX_CONTENT_LENGTH = max_content_length_from_env(env)
        # Form text (not files) is decoded in memory, and percent-decoding costs about
        # 75 bytes per encoded byte at its worst ("%5B%5B..."): 1 MiB of it peaks near
        # 75 MB, while a study's YAML in the editor is well under 200 kB.
        self.MAX_FORM_MEMORY_SIZE = min(self.MAX_CONTENT_LENGTH, MAX_FORM_MEMORY_SIZE)

    def _secret_key(self, env: Mapping[str, str]) -> str:
        return secret_key_from_env(env)


class ProductionConfig(Config):
    """Deployed behind HTTPS: secure cookies, no debug."""


class DevelopmentConfig(Config):
    """Local work over plain HTTP."""

    ENV = "development"
    DEBUG = True
    SESSION_COOKIE_SECURE = False


class TestingConfig(Config):
    """Tests: fixed key unless given, cookies over plain HTTP."""

    ENV = "testing"
    TESTING = True
    SESSION_COOKIE_SECURE = False

    def _secret_key(self, env: Mapping[str, str]) -> str:
        return env.get("FRAMELAB_SECRET_KEY", "").strip() or "framelab-testing-key"


CONFIGS: dict[str, type[Config]] = {
    "production": ProductionConfig,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """The config object for FRAMELAB_ENV, filled from the environment now."""
    env = _env(environ)
    name = env.get("FRAMELAB_ENV", "production").strip().lower() or "production"
    if name not in CONFIGS:
        raise ValueError(
            f"FRAMELAB_ENV: {name!r} is not an environment (expected one of: {', '.join(ENVIRONMENTS)})"
        )
    return CONFIGS[name](env)
