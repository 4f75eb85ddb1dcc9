"""Configuration from FRAMELAB_* environment variables."""

from __future__ import annotations

import stat

import pytest

from framelab import config as cfg
from framelab.config import database_url_from_env, load_config, secret_key_from_env


def test_database_url_prefers_framelab_variable_over_plain_database_url():
    env = {
        "FRAMELAB_DATABASE_URL": "sqlite:////tmp/a.sqlite",
        "DATABASE_URL": "sqlite:////tmp/b.sqlite",
    }
    assert database_url_from_env(env) == "sqlite:////tmp/a.sqlite"


def test_plain_database_url_accepted_and_postgres_scheme_gets_psycopg_driver():
    env = {"DATABASE_URL": "postgres://u:p@db.example:5432/framelab"}
    assert database_url_from_env(env) == "postgresql+psycopg://u:p@db.example:5432/framelab"


def test_default_database_is_sqlite_file_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert database_url_from_env({}) == f"sqlite:///{tmp_path / 'instance' / 'framelab.sqlite'}"
    env = {"FRAMELAB_INSTANCE_PATH": str(tmp_path / "inst")}
    assert database_url_from_env(env) == f"sqlite:///{tmp_path / 'inst' / 'framelab.sqlite'}"


def test_generated_secret_key_is_persisted_private_and_reused(tmp_path):
    env = {"FRAMELAB_INSTANCE_PATH": str(tmp_path)}
    first = secret_key_from_env(env)
    assert len(first) >= 48
    assert secret_key_from_env(env) == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert secret_key_from_env({**env, "FRAMELAB_SECRET_KEY": "given"}) == "given"


def test_load_config_picks_class_from_framelab_env(tmp_path):
    base = {"FRAMELAB_INSTANCE_PATH": str(tmp_path), "FRAMELAB_DATABASE_URL": "sqlite://"}
    prod = load_config(base)
    assert type(prod) is cfg.ProductionConfig and prod.SESSION_COOKIE_SECURE and not prod.DEBUG
    dev = load_config({**base, "FRAMELAB_ENV": "development"})
    assert type(dev) is cfg.DevelopmentConfig and dev.DEBUG and not dev.SESSION_COOKIE_SECURE
    test = load_config({**base, "FRAMELAB_ENV": "testing"})
    assert (
        type(test) is cfg.TestingConfig
        and test.TESTING
        and test.SECRET_KEY == "framelab-testing-key"
    )
    assert test.DATABASE_URL == "sqlite://"


def test_unknown_environment_is_rejected_with_the_allowed_names():
    with pytest.raises(
        ValueError, match=r"FRAMELAB_ENV: 'staging' .*production, development, testing"
    ):
        load_config({"FRAMELAB_ENV": "staging"})
