"""framelab.testing.proxy renders the shipped nginx config (deploy/nginx/framelab.conf) for a test run."""

from __future__ import annotations

import subprocess

import pytest

from framelab.testing.proxy import SHIPPED_CONFIG, NginxProxy, nginx_executable, render_config


def _directives(text: str) -> list[str]:
    return [
        line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()
    ]


def test_rendering_puts_in_the_test_servers_and_addresses_and_drops_only_the_tls_lines(tmp_path):
    shipped = SHIPPED_CONFIG.read_text(encoding="utf-8")
    rendered = render_config(
        ["127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"],
        ["127.0.0.1:6000", "10.213.7.1:6000"],
        tmp_path,
    )
    lines = _directives(rendered)

    assert [x for x in lines if x.startswith("server 127")] == [
        f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in (5001, 5002, 5003)
    ]
    assert [x for x in lines if x.startswith("listen")] == [
        "listen 127.0.0.1:6000;",
        "listen 10.213.7.1:6000;",
    ]
    assert not [x for x in lines if x.startswith("ssl_") or "443" in x or "return 301" in x]
    assert f"error_log {tmp_path}/framelab.error.log crit;" in lines
    # Every untagged directive of the shipped file runs as written.
    kept = [x for x in shipped.splitlines() if "# @" not in x and "/var/log/nginx" not in x]
    assert set(_directives("\n".join(kept))) <= set(lines)
    for directive in (
        "proxy_next_upstream error timeout;",
        "keepalive 16;",
        "access_log off;",
        "client_max_body_size 4m;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header X-Forwarded-Host $host;",
    ):
        assert directive in lines, directive


def test_a_config_without_tagged_lines_is_refused_by_name():
    with pytest.raises(ValueError, match="@app-server"):
        render_config(["127.0.0.1:5001"], ["127.0.0.1:6000"], "/tmp", text="events {}\n")
    with pytest.raises(ValueError, match="app_servers, listen"):
        render_config([], ["127.0.0.1:6000"], "/tmp")


def test_nginx_accepts_the_rendered_config():
    if nginx_executable() is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run does)")
    proxy = NginxProxy([5001, 5002])
    try:
        main = proxy.write_config()
        check = subprocess.run([*proxy.command(main), "-t"], capture_output=True, text=True)
    finally:
        proxy.close()
    assert check.returncode == 0, check.stderr


def test_the_deploy_docs_quote_the_shipped_config_as_it_is():
    """docs/deploy.md's multi-server section names real files and quotes real directives."""
    root = SHIPPED_CONFIG.parents[2]
    docs = (root / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = docs.split("## Several app servers against one PostgreSQL", 1)[1].split("\n## ", 1)[0]
    flowing = " ".join(section.split())  # the docs wrap lines anywhere
    shipped = SHIPPED_CONFIG.read_text(encoding="utf-8")
    for path in ("deploy/nginx/framelab.conf", "tests/scale/test_multi_server.py"):
        assert path in section and (root / path).exists(), path
    quoted = [
        "proxy_next_upstream error timeout",
        "max_fails=1 fail_timeout=10s",
        "X-Forwarded-For $remote_addr",
        "access_log off",
        "server_tokens off",
        "client_max_body_size 4m",
        "keepalive",
    ]
    for directive in quoted:
        assert f"`{directive}`" in flowing, directive
        assert directive in shipped, directive
