"""Test hosts on this machine: network namespaces on one bridge, for benchmarks and tests.

A participant's phone reaches the server from its own address; a load generator on
loopback does not (and loopback is exempt from the per-source enrolment limit). This
module makes `count` hosts, each a network namespace with its own address, joined by a
bridge whose address (the server's side, in this machine's own namespace) the server binds:

    with test_hosts(4) as net:
        server binds net.server_address
        for host in net.hosts:
            subprocess.Popen(host.command([sys.executable, "-m", "..."]))

Everything is made under names private to this process and removed on exit. It needs
root and `ip` (iproute2); `unavailable()` says why it cannot run here.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

# The test hosts' networks: 10.213.<n>.0/24, one per live `test_hosts` (n chosen free).
NETWORK = ipaddress.ip_network("10.213.0.0/16")
PREFIX = "flt"  # names of bridges, veths and namespaces made here


@dataclass(frozen=True)
class TestHost:
    name: str  # the namespace
    address: str

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run inside this host (its packets leave from `address`)."""
        return ["ip", "netns", "exec", self.name, *argv]


@dataclass(frozen=True)
class TestNetwork:
    server_address: str  # the bridge's address, on this machine's own namespace
    hosts: tuple[TestHost, ...]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def unavailable() -> str | None:
    """None when test hosts can be made here, else the reason they cannot."""
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed"
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    probe = f"{PREFIX}probe{os.getpid() % 100000}"
    try:
        _ip("netns", "add", probe)
    except subprocess.CalledProcessError as exc:
        return f"`ip netns add` failed: {exc.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def is_test_address(host: str | None) -> bool:
    """True for a test network's server address that is live on this machine right now.

    Load generators accept these beside loopback: such an address exists only while a
    `test_hosts` block has its bridge up, so it can never be a real deployment.
    """
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    if address not in NETWORK:
        return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((str(address), 0))  # succeeds only for an address of this machine
        except OSError:
            return False
    return True


def _free_subnet() -> int:
    used = subprocess.run(
        ["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    start = os.getpid() % 250
    for offset in range(250):
        n = (start + offset) % 250 + 1
        if f" 10.213.{n}." not in used:
            return n
    raise RuntimeError("no free 10.213.n.0/24 test network left")


@contextlib.contextmanager
def test_hosts(count: int) -> Iterator[TestNetwork]:
    """`count` (1-200) test hosts on one bridge, removed again on exit."""
    if not 1 <= count <= 200:
        raise ValueError(f"count: {count} test hosts; give 1 to 200")
    reason = unavailable()
    if reason:
        raise RuntimeError(f"test hosts unavailable: {reason}")
    n = _free_subnet()
    tag = f"{os.getpid() % 100000}{n}"[-8:]
    bridge = f"{PREFIX}b{tag}"
    made: list[str] = []
    try:
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"10.213.{n}.1/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        hosts = []
        for k in range(count):
            name = f"{PREFIX}{tag}h{k}"
            outside, inside = f"{PREFIX}{tag}a{k}"[:15], f"{PREFIX}{tag}b{k}"[:15]
            _ip("netns", "add", name)
            made.append(name)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", name)
            _ip("link", "set", outside, "master", bridge)
            _ip("link", "set", outside, "up")
            address = f"10.213.{n}.{10 + k}"
            _ip("-n", name, "addr", "add", f"{address}/24", "dev", inside)
            _ip("-n", name, "link", "set", inside, "up")
            _ip("-n", name, "link", "set", "lo", "up")
            hosts.append(TestHost(name, address))
        yield TestNetwork(f"10.213.{n}.1", tuple(hosts))
    finally:
        for name in made:  # deleting a namespace deletes its end of the veth and so both
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
