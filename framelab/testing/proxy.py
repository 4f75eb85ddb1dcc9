"""Run the shipped nginx config (deploy/nginx/framelab.conf) in front of test app servers.

The config is rendered, not copied: its lines tagged `# @app-server` become one upstream
line per app server, its `# @listen` lines the given plain-HTTP listen addresses, its
`# @tls` lines are dropped (no certificate here) and /var/log/nginx/ becomes the run's own
folder. Everything else runs as shipped. nginx runs unprivileged-style with a prefix folder
of its own, in the foreground, and is stopped with its process:

    with NginxProxy([8001, 8002], listen=["127.0.0.1:9000"]) as proxy:
        httpx.get(proxy.base_url + "/s/torture-ban")

Used by tests/scale/test_multi_server.py; `nginx_unavailable()` says why it cannot run here.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from framelab.testing.server import ROOT, free_port

SHIPPED_CONFIG = ROOT / "deploy" / "nginx" / "framelab.conf"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "nginx")
LOG_FOLDER = "/var/log/nginx/"
_UPSTREAM_LINE = re.compile(r"^(\s*)server \S+( .*?);\s*# @app-server\s*$")


def nginx_executable() -> str | None:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def nginx_unavailable() -> str | None:
    """None when nginx can run here, else why not."""
    if nginx_executable() is None:
        return "nginx is not installed (apt-get install nginx; .ci/run does)"
    return None


def render_config(
    app_servers: Sequence[str],
    listen: Sequence[str],
    log_folder: str | Path,
    text: str | None = None,
) -> str:
    """The shipped config with these app servers ("host:port"), plain-HTTP listen addresses
    and log folder (see the module docstring for what changes)."""
    if not app_servers or not listen:
        raise ValueError("app_servers, listen: give at least one of each")
    source = SHIPPED_CONFIG.read_text(encoding="utf-8") if text is None else text
    out: list[str] = []
    servers_done = listen_done = False
    for line in source.splitlines():
        tag = line.rsplit("#", 1)[-1].strip() if "# @" in line else ""
        if tag == "@tls":
            continue
        if tag == "@app-server":
            match = _UPSTREAM_LINE.match(line)
            if match is None:
                raise ValueError(f"{SHIPPED_CONFIG.name}: cannot read the app-server line {line!r}")
            if not servers_done:
                indent, options = match.groups()
                out += [f"{indent}server {address}{options};" for address in app_servers]
                servers_done = True
            continue
        if tag == "@listen":
            if not listen_done:
                indent = line[: len(line) - len(line.lstrip())]
                out += [f"{indent}listen {address};" for address in listen]
                listen_done = True
            continue
        out.append(line.replace(LOG_FOLDER, f"{Path(log_folder)}/"))
    if not (servers_done and listen_done):
        raise ValueError(f"{SHIPPED_CONFIG.name}: no '# @app-server' or '# @listen' line")
    return "\n".join(out) + "\n"


class NginxProxy:
    """nginx (foreground, own prefix folder) proxying to `app_ports` on 127.0.0.1."""

    def __init__(
        self,
        app_ports: Sequence[int],
        *,
        listen_hosts: Sequence[str] = ("127.0.0.1",),
        port: int | None = None,
    ) -> None:
        self.app_ports = list(app_ports)
        self.listen_hosts = list(listen_hosts)
        self.port = port or free_port()
        # Not under pytest's 0700 tmp folders: nginx's workers (user nobody when started as
        # root) create and use their temporary files under the prefix.
        self.prefix = Path(tempfile.mkdtemp(prefix="framelab-nginx-"))
        self.prefix.chmod(0o755)
        (self.prefix / "logs").mkdir()
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.listen_hosts[0]}:{self.port}"

    def url_on(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def write_config(self) -> Path:
        site = self.prefix / "framelab.conf"
        site.write_text(
            render_config(
                [f"127.0.0.1:{port}" for port in self.app_ports],
                [f"{host}:{self.port}" for host in self.listen_hosts],
                self.prefix / "logs",
            )
        )
        # The main config Debian's /etc/nginx/nginx.conf would be: events, http, the site.
        main = self.prefix / "nginx.conf"
        main.write_text(
            "worker_processes 1;\n"
            f"error_log {self.prefix / 'logs' / 'error.log'} crit;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n    include {site};\n}}\n"
        )
        return main

    def command(self, main: Path) -> list[str]:
        pid = self.prefix / "nginx.pid"
        return [
            nginx_executable() or "nginx",
            "-p",
            str(self.prefix),
            "-c",
            str(main),
            "-g",
            f"daemon off; pid {pid};",
        ]

    def start(self, timeout: float = 10.0) -> None:
        main = self.write_config()
        check = subprocess.run(
            [*self.command(main), "-t", "-q"], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered config:\n{check.stderr}")
        self.process = subprocess.Popen(
            self.command(main), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.process.stderr.read().decode()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.listen_hosts[0], self.port), timeout=0.5),
            ):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.base_url} within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: nginx's fast shutdown
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> NginxProxy:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
