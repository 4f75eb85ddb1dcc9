"""framelab.testing.netns: test hosts in network namespaces, seen by a server as their own sources."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from framelab.testing import netns

CONNECT = (
    "import socket, sys; s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 5); "
    "s.sendall(b'x'); s.recv(1)"
)


@pytest.fixture(scope="module", autouse=True)
def _needs_namespaces() -> None:
    reason = netns.unavailable()
    if reason:
        pytest.skip(f"test hosts unavailable: {reason}")


def test_a_server_on_the_bridge_sees_each_host_as_its_own_source() -> None:
    with netns.test_hosts(2) as net:
        assert len({h.address for h in net.hosts}) == 2
        assert netns.is_test_address(net.server_address)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind((net.server_address, 0))
            server.listen(4)
            server.settimeout(10)
            port = server.getsockname()[1]
            clients = [
                subprocess.Popen(
                    h.command([sys.executable, "-c", CONNECT, net.server_address, str(port)])
                )
                for h in net.hosts
            ]
            sources = set()
            for _ in clients:
                conn, (address, _) = server.accept()
                with conn:
                    conn.recv(1)
                    conn.sendall(b"y")
                sources.add(address)
            assert [c.wait(10) for c in clients] == [0, 0]
        assert sources == {h.address for h in net.hosts}
        address = net.server_address
    assert not netns.is_test_address(address)


def test_a_burst_generator_inside_a_host_accepts_only_its_own_test_network() -> None:
    probe = (
        "import sys; from benchmarks.burst_client import _inside_test_host as f; "
        "print(f(sys.argv[1]), f('10.213.250.1'), f('192.0.2.1'))"
    )
    with netns.test_hosts(1) as net:
        host = net.hosts[0]
        out = subprocess.run(
            host.command([sys.executable, "-c", probe, net.server_address]),
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.split()
    expected = ["True", "False", "False"]
    if net.server_address.startswith("10.213.250."):
        expected[1] = "True"
    assert out == expected
