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
- FRAMELAB_MAX_CONTENT_LENGTH: the largest request body in bytes (default 4 MiB).
- FRAMELAB_PROXY_FIX: number of reverse proxies in front of the app (default 0);
  their X-Forwarded-For/-Proto/-Host are trusted, so addresses and HTTPS are real.
- FRAMELAB_RATELIMIT_STORAGE_URI: e.g. redis://localhost:6379/0 (default memory://).
- FRAMELAB_RATELIMIT_ENABLED: 0 turns rate limiting off (default on).
- FRAMELAB_LOGIN_RATE_LIMIT, FRAMELAB_ENROL_RATE_LIMIT, FRAMELAB_CODE_GUESS_RATE_LIMIT:
  the limits per source (framelab.web.rate_limits says why each default is what it is).
- FRAMELAB_ACCESS_LOG: 1 writes an access log without client addresses (default off).
- FRAMELAB_QUICK_EXIT_URL: where every participant page's "Leave this page" goes.
- FRAMELAB_PSEUDONYM_KEY_FILE, FRAMELAB_CARD_KEY_FILE: key files outside the instance
  folder (default `pseudonym_key` and `card_signing_key` in it).
- FRAMELAB_TEXT_KEY: encrypts free-text answers at rest (framelab.crypto); read at each
  use, because services that store answers have no app config.

Nothing else in framelab reads the environment: the app gets these values through
`app.config`, commands and services through the functions here. docs/environment.md is
the operator's table of them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

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


def existing_secret_key(environ: Mapping[str, str] | None = None) -> str:
    """FRAMELAB_SECRET_KEY, else the instance folder's generated key, else "" (none made)."""
    env = _env(environ)
    value = env.get("FRAMELAB_SECRET_KEY", "").strip()
    if value:
        return value
    path = instance_path_from_env(env) / "secret_key"
    return path.read_text(encoding="utf-8").strip() if path.is_file() else ""


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


class InsecureConfiguration(RuntimeError):
    """The app must not start with this configuration; the message says what to change."""


def proxy_count_from_env(environ: Mapping[str, str] | None = None) -> int:
    """FRAMELAB_PROXY_FIX: how many reverse proxies' forwarded headers to trust (default 0)."""
    raw = _env(environ).get("FRAMELAB_PROXY_FIX", "").strip() or "0"
    try:
        count = int(raw)
    except ValueError:
        raise InsecureConfiguration(
            f"FRAMELAB_PROXY_FIX: expected the number of proxies in front of framelab, got {raw!r}"
        ) from None
    if count < 0:
        raise InsecureConfiguration(f"FRAMELAB_PROXY_FIX: expected 0 or more, got {count}")
    return count


DEFAULT_LOGIN_LIMIT = "10 per minute;50 per hour"
# Carrier NAT: hundreds of real participants a minute can share one address
# (framelab.web.rate_limits).
DEFAULT_ENROL_LIMIT = "1000 per minute;20000 per hour"
DEFAULT_CODE_GUESS_LIMIT = "10 per minute;50 per hour"
DEFAULT_QUICK_EXIT_URL = "https://www.wikipedia.org/"


def ratelimit_enabled_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """FRAMELAB_RATELIMIT_ENABLED: on unless 0/false/no/off."""
    value = _env(environ).get("FRAMELAB_RATELIMIT_ENABLED", "1").strip().lower()
    return value not in {"0", "false", "no", "off"}


def access_log_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """FRAMELAB_ACCESS_LOG: True when the operator opted in to an access log."""
    value = _env(environ).get("FRAMELAB_ACCESS_LOG", "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


def quick_exit_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """FRAMELAB_QUICK_EXIT_URL when it is an http(s) address, else Wikipedia."""
    url = _env(environ).get("FRAMELAB_QUICK_EXIT_URL", "").strip() or DEFAULT_QUICK_EXIT_URL
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return DEFAULT_QUICK_EXIT_URL
    return url


def text_key_from_env(environ: Mapping[str, str] | None = None) -> str:
    """FRAMELAB_TEXT_KEY (comma-separated Fernet keys), or "" when unset."""
    return _env(environ).get("FRAMELAB_TEXT_KEY", "").strip()


def _setting(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name, "").strip() or None


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
    # Flask-Limiter's rate-limit headers: off (its after_request hook is dropped too).
    RATELIMIT_HEADERS_ENABLED = False

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
        self.PROXY_FIX = proxy_count_from_env(env)
        self.RATELIMIT_STORAGE_URI = _setting(env, "FRAMELAB_RATELIMIT_STORAGE_URI") or "memory://"
        self.RATELIMIT_ENABLED = ratelimit_enabled_from_env(env)
        self.LOGIN_RATE_LIMIT = _setting(env, "FRAMELAB_LOGIN_RATE_LIMIT") or DEFAULT_LOGIN_LIMIT
        self.ENROL_RATE_LIMIT = _setting(env, "FRAMELAB_ENROL_RATE_LIMIT") or DEFAULT_ENROL_LIMIT
        self.CODE_GUESS_RATE_LIMIT = (
            _setting(env, "FRAMELAB_CODE_GUESS_RATE_LIMIT") or DEFAULT_CODE_GUESS_LIMIT
        )
        self.ACCESS_LOG = access_log_from_env(env)
        self.QUICK_EXIT_URL = quick_exit_url_from_env(env)
        # None: the instance folder's file (or, in tests, a fixed testing key).
        self.PSEUDONYM_KEY_FILE = _setting(env, "FRAMELAB_PSEUDONYM_KEY_FILE")
        self.CARD_KEY_FILE = _setting(env, "FRAMELAB_CARD_KEY_FILE")

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
