"""Starts and stops the bot's server processes together.

Used by ``make run`` and by the end-to-end tests, so both exercise the same
start-up path: every child runs in its own process group and is stopped,
children included, when the stack closes. Children run with a umask of 077:
the databases, secrets and logs they create are readable by the bot's user only.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import requests

from bot.paths import PRIVATE_UMASK, PROJECT_ROOT
from bot.settings import Settings, child_environment, connect_address

STOP_GRACE_SECONDS = 10


class StartupError(RuntimeError):
    """A server did not become ready; the message names it and its log."""


@dataclass(frozen=True)
class Service:
    """How to start one server and how to know it is ready.

    ``args`` go to ``python -m bot.serve`` unless ``program`` names another
    command (nginx in the scaled-out stack); ``env`` adds to the stack's.
    """

    label: str
    args: list[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    program: list[str] | None = None


@dataclass
class Stack:
    """The running processes, by role; each can be restarted (the fault tests do)."""

    env: dict[str, str]
    output: Callable[[str], IO | None]
    where: str
    services: dict[str, Service] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, role: str, service: Service) -> None:
        self.services[role] = service
        command = service.program or [sys.executable, "-m", "bot.serve", *service.args]
        self.processes[role] = _spawn(command, {**self.env, **service.env}, self.output(role))

    def wait_ready(self, role: str, timeout: float) -> None:
        service = self.services[role]
        _wait_ready(service.label, service.ready_url, self.processes[role], timeout, self.where)

    def kill(self, role: str) -> None:
        """Stops one server, as a crash or a deploy would."""
        _stop([self.processes[role]])

    def restart(self, role: str, timeout: float = 180) -> None:
        self.kill(role)
        self.start(role, self.services[role])
        self.wait_ready(role, timeout)

    def stop(self) -> None:
        """Asks every child to stop, then kills what is left."""
        _stop(list(self.processes.values()))


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _spawn(command: list[str], env: dict[str, str], output: IO | None) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,
        umask=PRIVATE_UMASK,
    )


def _wait_ready(name: str, url: str, process: subprocess.Popen, timeout: float, log: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupError(f"{name} exited with code {process.returncode}; see {log}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise StartupError(f"{name} not ready after {timeout:.0f} s; see {log}")


@contextmanager
def running_services(
    settings: Settings,
    services: dict[str, Service],
    log_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 180,
) -> Iterator[Stack]:
    """Starts ``services`` together and stops them all when the block exits.

    With ``log_dir`` each process writes ``<role>.log`` there; without it they
    share the terminal.
    """
    logs: list[IO] = []

    def output(name: str) -> IO | None:
        if log_dir is None:
            return None
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # logs hold masked customer data and still are nobody else's business
        handle = os.fdopen(os.open(log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        logs.append(handle)
        return handle

    env = child_environment(settings, {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **(extra_env or {})})
    stack = Stack(env, output, str(log_dir) if log_dir else "the output above")
    try:
        for role, service in services.items():
            stack.start(role, service)
        for role in services:
            stack.wait_ready(role, timeout)
        yield stack
    finally:
        stack.stop()
        for handle in logs:
            handle.close()


def rasa_service(settings: Settings, model: Path, env: dict[str, str] | None = None) -> Service:
    """A Rasa server on ``settings.rasa_port``; ``env`` adds to the stack's (a replica's own settings)."""
    return Service(
        "Rasa server", ["rasa", "--model", str(model)],
        f"http://{connect_address(settings.rasa_api_host)}:{settings.rasa_port}/status?token={settings.rasa_token}",
        env or {},
    )  # fmt: skip


@contextmanager
def running_stack(
    settings: Settings,
    model: Path,
    log_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 180,
) -> Iterator[Stack]:
    """Runs the action server, the desk (agent console) and Rasa until the block exits."""
    actions_health = f"http://{connect_address(settings.action_host)}:{settings.action_port}/health"
    services = {
        "actions": Service("action server", ["actions"], actions_health),
        "desk": Service("agent console", ["desk"], f"{settings.desk_url}/health"),
        "rasa": rasa_service(settings, model),
    }
    with running_services(settings, services, log_dir, extra_env, timeout) as stack:
        yield stack


def supervise(starting: AbstractContextManager[Stack], banner: Callable[[], str]) -> int:
    """Runs a stack until Ctrl-C, SIGTERM or a server's death; ``make run``'s exit code."""
    # Ctrl-C and SIGTERM both stop everything, even when started from a shell that
    # ignores SIGINT in background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    os.umask(PRIVATE_UMASK)  # what the supervisor itself writes (logs, nginx's files) is private too
    try:
        with starting as stack:
            print(banner(), flush=True)
            while all(p.poll() is None for p in stack.processes.values()):
                time.sleep(1)
            dead = [name for name, p in stack.processes.items() if p.poll() is not None]
            print(f"Stopped because {', '.join(dead)} exited.")
            return 1
    except StartupError as error:
        print(f"Could not start: {error}")
        return 1
    except KeyboardInterrupt:
        print("\nStopped.")
        return 0
