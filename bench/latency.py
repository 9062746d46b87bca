"""``make bench-latency``: our whole bot against a stock ``rasa init`` bot, side by side.

Both are trained from scratch in this run (Rasa's training cache off) and
served on loopback over the REST channel; our bot is measured as ``make run``
starts it and as ``make run-scaled`` does (2 replicas on this machine's
PostgreSQL and Redis; ``--no-scaled`` skips it). Realistic Vietnamese customer
messages, in conversations of 10, are sent one conversation at a time (20
conversations), then by 20 customers at once (5 conversations each); each
message's round trip is timed. Printed per bot: training time,
p50/p95/p99 latency, messages per second, and the resident memory (RSS) of
each server process after the run. The bots take turns, ``--runs`` times (3),
each run printed with its ratios to the stock bot; ``--only`` measures some
bots, ``--model`` serves a trained model instead of training one cold.
"""

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import aiohttp
import requests
from rasa.cli.scaffold import create_initial_project

from bot.paths import PROJECT_ROOT
from bot.processes import Stack
from bot.sandbox import free_port, isolated_settings, processes_in
from bot.scaled import Scale, running_scaled_stack
from bot.settings import Settings, current_settings, inherited_environment

# What customers of a Vietnamese shop send, diacritics or not, teencode and all.
MESSAGES = [
    "chào shop", "phí ship về Hà Nội bao nhiêu vậy", "bao lâu thì nhận được hàng ạ", "shop có cho đổi size ko",
    "hoan tien mat bao lau", "kiểm tra đơn DH123456 giúp mình", "0912345678", "cảm ơn shop nhiều",
    "bảo hành máy xay bao lâu vậy ad", "cho mk hỏi có trả góp không", "cửa hàng ở đâu vậy shop",
    "mấy giờ shop đóng cửa", "có mã giảm giá nào không ạ", "xuất hóa đơn đỏ được không", "tạm biệt nhé",
]  # fmt: skip


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    def line(self) -> str:
        ordered = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

        rate = len(self.latencies) / self.seconds if self.seconds else 0
        return (
            f"p50 {statistics.median(ordered) * 1000:6.1f} ms  p95 {pct(0.95):6.1f} ms  p99 {pct(0.99):6.1f} ms  "
            f"{rate:6.1f} msg/s  errors {self.errors}"
        )


@dataclass(frozen=True)
class Figures:
    """One bot's measurement: conversations one at a time, many at once, and each process's memory after."""

    single: Run
    crowd: Run
    rss: dict[str, float]  # process role -> MB


@dataclass
class Bot:
    name: str
    url: str
    pids: dict[str, int]
    train_seconds: float


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc."""
    total = 0.0
    children = [int(c) for task in Path(f"/proc/{pid}/task").glob("*/children") for c in task.read_text().split()]
    for each in {pid, *children}:
        status = Path(f"/proc/{each}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


async def conversation(session: aiohttp.ClientSession, url: str, messages: int, run: Run) -> None:
    sender = uuid.uuid4().hex
    for index in range(messages):
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": MESSAGES[index % len(MESSAGES)]}) as reply:
                await reply.read()
                if reply.status != 200:
                    run.errors += 1
                    continue
        except aiohttp.ClientError:
            run.errors += 1
            continue
        run.latencies.append(time.perf_counter() - started)


async def load(url: str, concurrent: int, conversations_each: int, messages: int) -> Run:
    """``concurrent`` customers at once, each having ``conversations_each`` conversations in a row."""
    run = Run()
    timeout = aiohttp.ClientTimeout(total=120)

    async def customer(session: aiohttp.ClientSession) -> None:
        for _ in range(conversations_each):
            await conversation(session, url, messages, run)

    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=100)) as session:
        await conversation(session, url, 3, Run())  # warm-up
        started = time.perf_counter()
        await asyncio.gather(*(customer(session) for _ in range(concurrent)))
        run.seconds = time.perf_counter() - started
    return run


def train_ours(workdir: Path) -> tuple[Path, float]:
    """Our bot trained cold into ``workdir``: the model and the seconds it took."""
    env = inherited_environment({"RASA_MAX_CACHE_SIZE": "0"})
    started = time.monotonic()
    model = subprocess.run(
        [sys.executable, "-c", "from bot.training import ensure_model; from pathlib import Path; import sys; "
         f"print(ensure_model(output=Path({str(workdir / 'models')!r})))"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    return Path(model), time.monotonic() - started


def served(name: str, settings: Settings, stack: Stack, train_seconds: float) -> Bot:
    """Our bot behind ``settings.rasa_url``, with the processes whose memory is reported."""
    pids = {role: process.pid for role, process in stack.processes.items()}
    return Bot(name, f"{settings.rasa_url}/webhooks/rest/webhook", pids, train_seconds)


@contextmanager
def our_bot(workdir: Path, model: Path, train_seconds: float) -> Iterator[Bot]:
    """``make run``'s embedded stack: one Rasa server, one action server, the desk; SQLite."""
    with processes_in(workdir / "stack", model) as (settings, stack):
        yield served("cskh-bot (make run)", settings, stack, train_seconds)


@contextmanager
def our_scaled_bot(workdir: Path, model: Path, train_seconds: float) -> Iterator[Bot]:
    """``make run-scaled`` on this machine's PostgreSQL and Redis: 2 Rasa replicas, 2 action servers, nginx."""
    settings = isolated_settings(workdir / "scaled")
    stores = current_settings()  # BENCH_PG_URL, BENCH_REDIS_URL: not the stores `make run-scaled` uses
    scale = Scale(stores.bench_pg_url, stores.bench_redis_url)
    with running_scaled_stack(settings, model, scale, workdir / "scaled" / "run", workdir / "scaled" / "logs") as stack:
        yield served("cskh-bot (make run-scaled, 2 replicas)", settings, stack, train_seconds)


def train_stock(workdir: Path) -> tuple[Path, float]:
    """``rasa init``'s project, trained cold the way Rasa's docs show: its folder and the seconds it took."""
    project = workdir / "stock"
    create_initial_project(str(project))  # what `rasa init` copies before it trains; training is timed below instead
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "rasa", "train"], cwd=project, env=_stock_env(), capture_output=True,
                   check=True, timeout=1800)  # fmt: skip
    return project, time.monotonic() - started


def _stock_env() -> dict[str, str]:
    return inherited_environment({"RASA_MAX_CACHE_SIZE": "0", "RASA_TELEMETRY_ENABLED": "false"})


@contextmanager
def stock_bot(workdir: Path, project: Path, train_seconds: float) -> Iterator[Bot]:
    """The trained ``rasa init`` project served by ``rasa run``, as Rasa's docs show."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "rasa", "run", "-i", "127.0.0.1", "-p", str(port)], cwd=project,
                              env=_stock_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(1)
        yield Bot("stock rasa init", f"http://127.0.0.1:{port}/webhooks/rest/webhook", {"rasa": server.pid},
                  train_seconds)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure(bot: Bot, conversations: int, concurrent: int) -> Figures:
    """Conversations of 10 messages: ``conversations`` one at a time, then 5 each for ``concurrent`` customers."""
    single = asyncio.run(load(bot.url, 1, conversations, 10))
    crowd = asyncio.run(load(bot.url, concurrent, 5, 10))
    return Figures(single, crowd, {role: rss_mb(pid) for role, pid in bot.pids.items()})


OURS, STOCK, SCALED = "ours", "stock", "scaled"


def report(bot: Bot, figures: Figures, concurrent: int) -> None:
    print(f"\n{bot.name}: trained in {bot.train_seconds:.0f} s (cold)")
    print(f"  1 conversation:    {figures.single.line()}")
    print(f"  {concurrent} concurrent:     {figures.crowd.line()}")
    memory = ", ".join(f"{role} {mb:.0f} MB" for role, mb in figures.rss.items())
    print(f"  RSS after the run: {memory}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20, help="10-message conversations, one at a time")
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3, help="each bot measured this many times, bots taking turns")
    parser.add_argument("--no-scaled", action="store_true", help="skip the scaled-out stack (needs PostgreSQL, Redis)")
    parser.add_argument("--only", choices=[OURS, STOCK, SCALED], action="append",
                        help="measure only these bots (repeatable); ratios need stock among them")  # fmt: skip
    parser.add_argument("--model", type=Path, help="our trained model, instead of training it cold here")
    args = parser.parse_args(argv)
    chosen = args.only or [OURS, STOCK] + ([] if args.no_scaled else [SCALED])
    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        model, train_seconds = (args.model, 0.0) if args.model else train_ours(workdir)
        bots: dict[str, Callable[[Path], AbstractContextManager[Bot]]] = {
            OURS: partial(our_bot, model=model, train_seconds=train_seconds),
            SCALED: partial(our_scaled_bot, model=model, train_seconds=train_seconds),
        }
        if STOCK in chosen:
            project, stock_seconds = train_stock(workdir)
            bots[STOCK] = partial(stock_bot, project=project, train_seconds=stock_seconds)
        for run in range(1, args.runs + 1):
            print(f"\n=== run {run} of {args.runs}", flush=True)
            for key in chosen:
                with bots[key](workdir / f"{key}-{run}") as bot:
                    figures = measure(bot, args.conversations, args.concurrent)
                report(bot, figures, args.concurrent)
                rates.setdefault(key, []).append(len(figures.crowd.latencies) / figures.crowd.seconds)
    if STOCK not in rates:
        return
    stock = rates.pop(STOCK)
    for key, each in rates.items():
        ratios = ", ".join(f"{ours / theirs:.2f}x" for ours, theirs in zip(each, stock, strict=True))
        print(f"\nthroughput at {args.concurrent} concurrent conversations, {key} vs stock, run by run: {ratios}")


if __name__ == "__main__":
    main()
