"""`framelab serve` refuses plain HTTP where browsers would drop its Secure cookies.

A production app's cookies are Secure; browsers keep those over plain HTTP only from
localhost. Serving another address without an HTTPS proxy in front would let nobody
consent, withdraw or sign in, so serve stops at start and says what to do.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from framelab.cli import main
from framelab.commands.survey import plain_http_refusal

PRODUCTION = {"FRAMELAB_ENV": "production", "FRAMELAB_SECRET_KEY": "x" * 64}


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_are_served(host):
    assert plain_http_refusal(host, PRODUCTION) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "survey.example.org"])
def test_other_hosts_are_refused_without_a_proxy(host):
    message = plain_http_refusal(host, PRODUCTION)
    assert message is not None and f"refusing to serve plain HTTP on {host}" in message
    assert "FRAMELAB_PROXY_FIX=1" in message


def test_behind_a_trusted_proxy_or_with_plain_http_cookies_any_host_is_served():
    assert plain_http_refusal("0.0.0.0", {**PRODUCTION, "FRAMELAB_PROXY_FIX": "1"}) is None
    assert plain_http_refusal("0.0.0.0", {"FRAMELAB_ENV": "development"}) is None


def test_the_command_stops_with_the_message_before_serving(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMELAB_ENV", "production")
    monkeypatch.delenv("FRAMELAB_PROXY_FIX", raising=False)
    monkeypatch.setenv("FRAMELAB_INSTANCE_PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "5999"])
    assert result.exit_code == 1
    assert "Error: refusing to serve plain HTTP on 0.0.0.0" in result.output
    assert "Participant links" not in result.output  # stopped before anything else
