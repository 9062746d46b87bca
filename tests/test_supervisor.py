"""``make run``'s supervisor, as its own process over real servers: a server that dies is started again
and the supervisor says so; however the supervisor is stopped or killed, no server is left behind
holding its port.

The supervised servers are the desk (it needs no model) and a stand-in for a server that started a
process of its own (tests/supervised_servers.py): that one must go with its server too.
The supervisor runs in a session of its own, so a signal to its process group misses pytest.
"""

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot.processes import Backoff
from bot.sandbox import eventually, free_port, isolated_settings
from bot.settings import Settings
from tests.supervised_servers import BANNER

ROLES = ("desk", "helper")
RESTART_TIMEOUT = 20
SERVERS = pytest.mark.slow  # they start server processes (no model): not for the fast tier


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state, ppid, pgrp, session, ...; None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _command(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().split("\0")[:-1]
    except (FileNotFoundError, ProcessLookupError):
        return []


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _port_free(port: int) -> bool:
    """Whether a new server could listen on ``port`` (as the servers do, with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
        return True


@dataclass
class Supervised:
    process: subprocess.Popen
    settings: Settings
    helper_port: int
    output: Path

    def said(self) -> str:
        return self.output.read_text()

    def server(self, role: str) -> int:
        """The pid of the running server ``role`` (once it is the server itself, not its start-up wrapper)."""

        def found() -> int | None:
            for pid in _all_pids():
                stat = _stat(pid)
                command = _command(pid)
                mine = stat is not None and int(stat[1]) == self.process.pid and stat[0] != "Z"
                if mine and "bot.processes" not in command and self._is(role, command):
                    return pid
            return None

        return eventually(found, 30, describe=self.said)

    def _is(self, role: str, command: list[str]) -> bool:
        if role == "helper":
            return "http.server" in command
        return command[-2:] == ["bot.serve", role]

    def ports(self) -> list[int]:
        return [self.settings.desk_port, self.helper_port]

    def desk_healthy(self) -> bool:
        try:
            return requests.get(f"{self.settings.desk_url}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def in_group_of(self, server: int) -> list[int]:
        """The other processes in ``server``'s process group: what it started."""
        return [pid for pid in _all_pids() if pid != server and _alive(pid) and int((_stat(pid) or "000")[2]) == server]


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[Supervised]:
    """A running supervisor; whatever a test leaves of it and its servers is killed afterwards."""
    settings, helper_port = isolated_settings(tmp_path / "var"), free_port()
    output = tmp_path / "supervisor.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.supervised_servers", "--helper-port", str(helper_port),
             "--restart-timeout", str(RESTART_TIMEOUT)],
            env={**os.environ, **settings.to_environment()}, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    supervised = Supervised(process, settings, helper_port, output)
    groups = [process.pid]
    try:
        eventually(lambda: BANNER in supervised.said() or process.poll() is not None, 90, describe=supervised.said)
        assert process.poll() is None, supervised.said()
        groups += [supervised.server(role) for role in ROLES]
        yield supervised
    finally:
        for group in groups:
            with suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        process.wait()


def _left_behind(servers: list[int]) -> list[str]:
    """The servers still running, and anything still in their process groups (what a server started)."""
    return [
        " ".join(_command(pid)) or str(pid)
        for pid in _all_pids()
        if _alive(pid) and (pid in servers or int((_stat(pid) or ["", "0", "0"])[2]) in servers)
    ]


def _nothing_left(supervised: Supervised, servers: list[int], timeout: float) -> None:
    eventually(lambda: not _left_behind(servers), timeout, describe=lambda: _left_behind(servers))
    eventually(lambda: all(_port_free(port) for port in supervised.ports()), 5, describe=supervised.ports)


@SERVERS
def test_a_killed_server_is_started_again_and_the_supervisor_says_so(supervised: Supervised) -> None:
    desk = supervised.server("desk")
    os.kill(desk, signal.SIGKILL)

    eventually(lambda: "agent console (desk) is back and ready" in supervised.said(), 60, describe=supervised.said)
    said = supervised.said()
    assert "agent console (desk) killed by SIGKILL (failure 1 in a row); restarting it in 1 s, at " in said
    assert f"its log: {supervised.settings.var_dir / 'logs' / 'desk.log'}" in said
    assert supervised.server("desk") != desk
    assert supervised.desk_healthy()
    assert supervised.process.poll() is None


@SERVERS
def test_a_server_that_does_not_get_ready_again_holds_up_no_other_and_is_tried_again(supervised: Supervised) -> None:
    helper = supervised.server("helper")
    started_by_it = supervised.in_group_of(helper)
    assert started_by_it
    os.kill(helper, signal.SIGKILL)
    eventually(lambda: "helper (helper): starting again" in supervised.said(), 30, describe=supervised.said)
    assert not [pid for pid in started_by_it if _alive(pid)]  # nobody was left to stop what it started

    os.kill(supervised.server("desk"), signal.SIGKILL)  # while the helper's restart is still waiting to get ready
    eventually(lambda: "agent console (desk) is back and ready" in supervised.said(), 60, describe=supervised.said)
    assert "helper (helper) was not ready" not in supervised.said()
    assert supervised.desk_healthy()

    given_up = (
        f"helper (helper) was not ready {RESTART_TIMEOUT} s after starting (failure 2 in a row); restarting it in 2 s"
    )
    eventually(lambda: given_up in supervised.said(), RESTART_TIMEOUT + 10, describe=supervised.said)


STOPS: dict[str, Callable[[subprocess.Popen], None]] = {
    "Ctrl-C": lambda supervisor: supervisor.send_signal(signal.SIGINT),
    "SIGTERM to it": lambda supervisor: supervisor.send_signal(signal.SIGTERM),
    "SIGTERM to its process group": lambda supervisor: os.killpg(supervisor.pid, signal.SIGTERM),
}


@SERVERS
@pytest.mark.parametrize("stop", STOPS.values(), ids=STOPS.keys())
def test_stopping_the_supervisor_stops_every_server_and_frees_their_ports(
    supervised: Supervised, stop: Callable[[subprocess.Popen], None]
) -> None:
    servers = [supervised.server(role) for role in ROLES]
    stop(supervised.process)
    assert supervised.process.wait(timeout=30) == 0
    assert supervised.said().rstrip().endswith("Stopped.")
    _nothing_left(supervised, servers, 1)  # the supervisor waited for them


@SERVERS
def test_a_killed_supervisor_takes_its_servers_with_it(supervised: Supervised) -> None:
    servers = [supervised.server(role) for role in ROLES]
    supervised.process.kill()
    supervised.process.wait()
    _nothing_left(supervised, servers, 20)


def test_the_wait_before_each_restart_doubles_up_to_30_seconds() -> None:
    assert [Backoff().delay(crashes) for crashes in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
