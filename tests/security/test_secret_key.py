"""A production app refuses to start with a missing, short or well-known secret key."""

from __future__ import annotations

import pytest

from framelab import create_app
from framelab.web.security import InsecureConfiguration, secret_key_problem

STRONG = "k" * 20 + "Zq8-3vX_9LmP0aWc7RtY2uEb"


def production_env(monkeypatch, tmp_path, key: str | None) -> None:
    monkeypatch.setenv("FRAMELAB_ENV", "production")
    monkeypatch.setenv("FRAMELAB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FRAMELAB_DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite'}")
    if key is None:
        monkeypatch.delenv("FRAMELAB_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("FRAMELAB_SECRET_KEY", key)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("framelab-testing-key", "well-known default"),
        ("change-me", "well-known default"),
        ("short-key-123", "has 13 characters (at least 32 needed)"),
    ],
)
def test_production_start_refuses_a_weak_secret_key_with_a_clear_message(
    monkeypatch, tmp_path, key, reason
):
    production_env(monkeypatch, tmp_path, key)
    with pytest.raises(InsecureConfiguration) as error:
        create_app()
    message = str(error.value)
    assert "refuses to start in production" in message and reason in message
    assert "FRAMELAB_SECRET_KEY" in message


def test_production_start_refuses_an_app_whose_key_was_removed(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path, STRONG)
    with pytest.raises(InsecureConfiguration, match="SECRET_KEY is missing"):
        create_app({"SECRET_KEY": ""})


def test_production_start_accepts_a_strong_key_and_the_generated_one(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path, STRONG)
    app = create_app()
    assert app.config["SECRET_KEY"] == STRONG and app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["framelab.engine"].dispose()
    # Without FRAMELAB_SECRET_KEY framelab generates a long random key in the instance folder.
    production_env(monkeypatch, tmp_path, None)
    generated = create_app()
    assert secret_key_problem(generated.config["SECRET_KEY"]) is None
    assert (tmp_path / "instance" / "secret_key").read_text().strip() == generated.config[
        "SECRET_KEY"
    ]
    generated.extensions["framelab.engine"].dispose()


def test_testing_and_development_apps_may_use_the_fixed_key(monkeypatch, tmp_path):
    production_env(monkeypatch, tmp_path, "framelab-testing-key")
    monkeypatch.setenv("FRAMELAB_ENV", "development")
    app = create_app()
    assert app.config["SECRET_KEY"] == "framelab-testing-key"
    app.extensions["framelab.engine"].dispose()


def test_secret_key_problem_names_each_weakness():
    assert secret_key_problem(None) == "SECRET_KEY is missing"
    assert secret_key_problem(b"") == "SECRET_KEY is missing"
    assert secret_key_problem(" DEV ") == "SECRET_KEY is a well-known default value"
    assert secret_key_problem("x" * 31) == "SECRET_KEY has 31 characters (at least 32 needed)"
    assert secret_key_problem("x" * 32) is None


def test_cli_prints_keys_that_the_checks_accept(monkeypatch):
    from click.testing import CliRunner

    from framelab.cli import main
    from framelab.crypto import decrypt_text, encrypt_text

    runner = CliRunner()
    secret = runner.invoke(main, ["secret-key"]).output.strip()
    assert secret_key_problem(secret) is None
    text_key = runner.invoke(main, ["text-key"]).output.strip()
    monkeypatch.setenv("FRAMELAB_TEXT_KEY", text_key)
    stored = encrypt_text("a private answer")
    assert stored != "a private answer" and decrypt_text(stored) == "a private answer"
