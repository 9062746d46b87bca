"""Starts, watches and stops the bot's server processes together.

Used by ``make run``, ``make run-scaled`` and the end-to-end tests, so all exercise the same
start-up path. Children run with a umask of 077: the databases, secrets and logs they create are
readable by the bot's user only.

Nothing is left behind, however the supervisor ends:
- each child runs in its own session, so a Ctrl-C or a SIGTERM meant for the supervisor's process
  group does not cut a server off mid-request; the supervisor stops them all instead, each with its
  process group (what a server started itself goes too), SIGTERM first, SIGKILL after 10 s;
- a supervisor that is SIGKILLed or crashes takes its servers with it, twice over. On Linux each child
  is started through this module's ``__main__``, which asks the kernel for a SIGTERM when the supervisor
  dies (``prctl(PR_SET_PDEATHSIG)``), then execs the server. And a small reaper process (``_Reaper``),
  told of every server's process group, stops those groups when the supervisor's end of its pipe
  closes: that also reaches what the servers started (the desk's retrain), which the kernel's signal
  does not.

``prctl`` is called through ctypes: setpriv(1) has ``--pdeathsig`` but cannot notice a supervisor that
died before the signal was set (this checks ``getppid()`` after setting it); python-prctl needs a C
build against libcap; tini (``-p``, ``-g``) would be one more Debian package for ``make run`` and one more
process per server; supervisord and circus are daemons of their own, not a library for a parent's
children. The signal is tied to the *thread* that forked, so servers are bound only when started from
the main thread.
"""

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, NoReturn

import requests

from bot.paths import PRIVATE_UMASK, PROJECT_ROOT
from bot.settings import Settings, child_environment, connect_address

STOP_GRACE_SECONDS = 10
READY_TIMEOUT_SECONDS = 180
WATCH_INTERVAL_SECONDS = 0.5
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


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
    """The running processes, by role; each can be restarted (the supervisor and the fault tests do)."""

    env: dict[str, str]
    output: Callable[[str], IO | None]
    reaper: "_Reaper"
    log_dir: Path | None = None
    ready_timeout: float = READY_TIMEOUT_SECONDS
    services: dict[str, Service] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, role: str, service: Service) -> None:
        self.services[role] = service
        command = service.program or [sys.executable, "-m", "bot.serve", *service.args]
        log = self.output(role)
        try:
            self.processes[role] = process = _spawn(command, {**self.env, **service.env}, log)
            self.reaper.watch(process.pid)
        finally:
            if log is not None:
                log.close()  # the child has its own copy; a server restarted for days must not use up ours

    def ready(self, role: str) -> bool:
        """One look at the server's readiness URL, short enough not to hold up the watch of the others."""
        try:
            return requests.get(self.services[role].ready_url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, role: str, timeout: float) -> None:
        name, deadline = self.services[role].label, time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.exit_code(role)
            if code is not None:
                raise StartupError(f"{name} {_describe(code)}; see {self.log_of(role)}")
            if self.ready(role):
                return
            time.sleep(0.5)
        raise StartupError(f"{name} not ready after {timeout:.0f} s; see {self.log_of(role)}")

    def exit_code(self, role: str) -> int | None:
        """None while the server runs; once it ended, its exit code (-N when signal N killed it)."""
        return self._exit_code(self.processes[role])

    def log_of(self, role: str) -> str:
        return str(self.log_dir / f"{role}.log") if self.log_dir else "the output above"

    def kill(self, role: str) -> None:
        """Stops one server, as a crash or a deploy would."""
        self._stop([self.processes[role]])

    def restart(self, role: str, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        self.kill(role)
        self.start(role, self.services[role])
        self.wait_ready(role, timeout)

    def stop(self) -> None:
        """Asks every child to stop, then kills what is left."""
        self._stop(list(self.processes.values()))

    def _exit_code(self, process: subprocess.Popen) -> int | None:
        """The process's exit code once it ended, after killing what it left in its process group (a
        retrain the desk started, nginx's workers): nobody is left to stop those. Looked at without reaping
        first, so the group's number cannot have been reused by then."""
        if process.returncode is None:
            ended = os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            if ended is None:
                return None
            _signal_group(process.pid, signal.SIGKILL)
            self.reaper.forget(process.pid)
        return process.poll()

    def _stop(self, processes: list[subprocess.Popen]) -> None:
        running = [process for process in processes if self._exit_code(process) is None]
        for process in running:
            _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while running and time.monotonic() < deadline:
            time.sleep(0.05)
            running = [process for process in running if self._exit_code(process) is None]
        for process in running:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
            self.reaper.forget(process.pid)


def _signal_group(group: int, signum: int) -> None:
    with suppress(ProcessLookupError):  # nobody left in it
        os.killpg(group, signum)


def _group_exists(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


class _Reaper:
    """A process of its own (its own session too) that stops the servers' process groups when the
    supervisor ends without stopping them, however it ended: when the supervisor's end of the pipe
    closes. ``PR_SET_PDEATHSIG`` reaches the servers only; this also reaches what they started."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.processes", "reap"], cwd=PROJECT_ROOT, stdin=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip

    def watch(self, group: int) -> None:
        self._tell(group)

    def forget(self, group: int) -> None:
        self._tell(-group)

    def close(self) -> None:
        """Once every group was stopped (and forgotten): the reaper has nothing left to do."""
        with suppress(OSError):
            self.process.communicate(timeout=STOP_GRACE_SECONDS)

    def _tell(self, number: int) -> None:
        assert self.process.stdin is not None
        with suppress(OSError):  # a reaper killed by hand costs only its second line of defence
            self.process.stdin.write(f"{number}\n".encode())
            self.process.stdin.flush()


def _reap(orders: IO[str]) -> None:
    """The reaper's half: the groups it was told of, until end of input; those left then are stopped,
    SIGTERM first, SIGKILL after the same grace as the supervisor's."""
    groups: set[int] = set()
    for line in orders:
        number = int(line)
        if number > 0:
            groups.add(number)
        else:
            groups.discard(-number)
    if not groups:
        return
    print(f"The supervisor is gone: stopping what it left running (process groups {sorted(groups)})", file=sys.stderr)
    for group in groups:
        _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while groups and time.monotonic() < deadline:
        time.sleep(0.1)
        groups = {group for group in groups if _group_exists(group)}
    for group in groups:
        _signal_group(group, signal.SIGKILL)


def _spawn(command: list[str], env: dict[str, str], output: IO | None) -> subprocess.Popen:
    return subprocess.Popen(
        _bound_to_this_process(command),
        cwd=PROJECT_ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT if output else None,
        start_new_session=True,
        umask=PRIVATE_UMASK,
    )


def _bound_to_this_process(command: list[str]) -> list[str]:
    """``command``, started so that it gets a SIGTERM when this process dies (see the module's doc)."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return command
    return [sys.executable, "-m", "bot.processes", "bound", str(os.getpid()), *command]


def _exec_bound_to_parent(parent: int, command: list[str]) -> NoReturn:
    """The child's half of ``_bound_to_this_process``: the signal survives the exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the supervisor died before the signal was set: nobody would stop this server
        raise SystemExit(f"supervisor {parent} is gone; not starting {command[0]}")
    os.execvp(command[0], command)


@dataclass(frozen=True)
class Backoff:
    """How long a crashed server waits for its next start: ``first`` seconds, doubling up to ``longest``;
    a server that stayed up ``forgiven_after`` seconds starts again from ``first``.

    It never gives up: a crash loop (a port taken, a database down) ends when its cause does, one try
    every ``longest`` seconds, each printed with the server's log, until the operator stops the bot.
    """

    first: float = 1
    longest: float = 30
    forgiven_after: float = 60

    def delay(self, crashes_in_a_row: int) -> float:
        return min(self.longest, self.first * 2 ** (crashes_in_a_row - 1))


@dataclass
class _Watch:
    """One server's state under the supervisor: up (since when), starting (ready by when) or down (until when)."""

    up_since: float | None
    ready_by: float | None = None
    retry_at: float | None = None
    crashes: int = 0


def _describe(code: int) -> str:
    if code >= 0:
        return f"exited with code {code}"
    with suppress(ValueError):  # a real-time signal has no name
        return f"killed by {signal.Signals(-code).name}"
    return f"killed by signal {-code}"


def _at(seconds_from_now: float) -> str:
    return (datetime.now() + timedelta(seconds=seconds_from_now)).strftime("%H:%M:%S")


class _Supervisor:
    """Restarts any server of ``stack`` that ends, one look at a time: a server that is slow to come
    back, or never does, does not hold up the watch of the others."""

    def __init__(self, stack: Stack, backoff: Backoff, say: Callable[[str], None]) -> None:
        self.stack, self.backoff, self.say = stack, backoff, say
        now = time.monotonic()
        self.watches = {role: _Watch(up_since=now) for role in stack.processes}

    def run_forever(self) -> NoReturn:
        while True:
            for role, watch in self.watches.items():
                self._look_at(role, watch, time.monotonic())
            time.sleep(WATCH_INTERVAL_SECONDS)

    def _name(self, role: str) -> str:
        return f"{self.stack.services[role].label} ({role})"

    def _look_at(self, role: str, watch: _Watch, now: float) -> None:
        if watch.retry_at is not None:
            if now >= watch.retry_at:
                watch.retry_at, watch.ready_by = None, now + self.stack.ready_timeout
                self.stack.start(role, self.stack.services[role])
                self.say(f"{self._name(role)}: starting again (pid {self.stack.processes[role].pid})")
            return
        code = self.stack.exit_code(role)
        if code is not None:
            self._crashed(role, watch, now, _describe(code))
        elif watch.ready_by is not None:
            if self.stack.ready(role):
                watch.up_since, watch.ready_by = now, None
                self.say(f"{self._name(role)} is back and ready")
            elif now >= watch.ready_by:
                self.stack.kill(role)
                self._crashed(role, watch, now, f"was not ready {self.stack.ready_timeout:.0f} s after starting")
        elif watch.crashes and watch.up_since is not None and now - watch.up_since >= self.backoff.forgiven_after:
            watch.crashes = 0

    def _crashed(self, role: str, watch: _Watch, now: float, what: str) -> None:
        watch.crashes += 1
        delay = self.backoff.delay(watch.crashes)
        watch.up_since, watch.ready_by, watch.retry_at = None, None, now + delay
        again = (
            f"; it keeps failing: one try every {delay:g} s until it stays up {self.backoff.forgiven_after:g} s"
            if delay >= self.backoff.longest
            else ""
        )
        self.say(
            f"{self._name(role)} {what} (failure {watch.crashes} in a row); restarting it in {delay:g} s, "
            f"at {_at(delay)}{again}; its log: {self.stack.log_of(role)}"
        )


@contextmanager
def running_services(
    settings: Settings,
    services: dict[str, Service],
    log_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = READY_TIMEOUT_SECONDS,
) -> Iterator[Stack]:
    """Starts ``services`` together and stops them all when the block exits.

    With ``log_dir`` each process writes ``<role>.log`` there; without it they
    share the terminal. ``timeout`` bounds each start, the first and any restart.
    """

    def output(name: str) -> IO | None:
        if log_dir is None:
            return None
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # logs hold masked customer data and still are nobody else's business
        return os.fdopen(os.open(log_dir / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")

    env = child_environment(settings, {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1", **(extra_env or {})})
    stack = Stack(env, output, _Reaper(), log_dir, timeout)
    try:
        for role, service in services.items():
            stack.start(role, service)
        for role in services:
            stack.wait_ready(role, timeout)
        yield stack
    finally:
        stack.stop()
        stack.reaper.close()


def actions_service(settings: Settings) -> Service:
    return Service(
        "action server", ["actions"], f"http://{connect_address(settings.action_host)}:{settings.action_port}/health"
    )


def desk_service(settings: Settings) -> Service:
    return Service("agent console", ["desk"], f"{settings.desk_url}/health")


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
    timeout: float = READY_TIMEOUT_SECONDS,
) -> Iterator[Stack]:
    """Runs the action server, the desk (agent console) and Rasa until the block exits."""
    services = {
        "actions": actions_service(settings),
        "desk": desk_service(settings),
        "rasa": rasa_service(settings, model),
    }
    with running_services(settings, services, log_dir, extra_env, timeout) as stack:
        yield stack


def _stop_once(_signum: int, _frame: object) -> None:
    """The first Ctrl-C, SIGTERM or hang-up stops everything; later ones must not cut that stop short."""
    for each in STOP_SIGNALS:
        signal.signal(each, signal.SIG_IGN)
    raise KeyboardInterrupt


def supervise(starting: AbstractContextManager[Stack], banner: Callable[[], str], backoff: Backoff = Backoff()) -> int:
    """Runs a stack, restarting any server that ends, until Ctrl-C, SIGTERM or a hang-up; ``make run``'s exit
    code. A server that fails its first start is a configuration to fix: nothing is restarted then."""
    # Handled even when started from a shell that ignores SIGINT in background jobs; a SIGTERM sent to the
    # supervisor's whole process group reaches only the supervisor (each server has its own session).
    for each in STOP_SIGNALS:
        signal.signal(each, _stop_once)
    os.umask(PRIVATE_UMASK)  # what the supervisor itself writes (logs, nginx's files) is private too

    def say(line: str) -> None:
        print(f"[{datetime.now():%H:%M:%S}] {line}", flush=True)

    try:
        with starting as stack:
            print(banner(), flush=True)
            _Supervisor(stack, backoff, say).run_forever()
    except StartupError as error:
        print(f"Could not start: {error}")
        return 1
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)
        return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["reap"]:
        _reap(sys.stdin)
    else:  # bound PID COMMAND...
        _exec_bound_to_parent(int(sys.argv[2]), sys.argv[3:])
