"""The bot in a folder of its own, and the clients that drive it as a customer and an agent would.

Tests, benchmarks and the admin's retrain checks start whole stacks (Rasa, actions, desk) under a
throw-away folder on free loopback ports; they talk to them through one REST customer and one desk
agent, and wait through one ``eventually``, so a change to a door (a header, a status, the inbox's
paging) is made in one place and every wait fails the same way: with what was last seen, in bounded time.
"""

import asyncio
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import aio_pika
import requests
import socketio

from bot.desk.event_consumer import UNREADABLE_SUFFIX
from bot.handoff_protocol import desk_message
from bot.processes import Stack, running_stack
from bot.senders import SESSION_HEADER
from bot.settings import Settings

T = TypeVar("T")

ADMIN_PASSWORD = "admin-password-for-tests"
# A sandbox must not depend on the time of day it runs at: agents work around the clock.
ALWAYS_OPEN_DESK = """
timezone: Asia/Ho_Chi_Minh
business_hours: {mon: ["00:00", "24:00"], tue: ["00:00", "24:00"], wed: ["00:00", "24:00"],
  thu: ["00:00", "24:00"], fri: ["00:00", "24:00"], sat: ["00:00", "24:00"], sun: ["00:00", "24:00"]}
average_handle_minutes: 6
accept_timeout_minutes: 5
holidays: none
"""
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_BODY = re.compile(r'data-csrf="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def isolated_settings(workdir: Path, **changes: Any) -> Settings:
    """Every file under ``workdir``, free loopback ports, per-folder tokens, an always-open desk that ticks
    every second, a known first-admin password and, for a scaled stack, a RabbitMQ queue of its own (a desk
    of another stack on the same queue would take this one's events); then ``changes``."""
    workdir.mkdir(parents=True, exist_ok=True)
    desk_config = workdir / "desk.yml"
    desk_config.write_text(ALWAYS_OPEN_DESK, encoding="utf-8")
    return Settings.under(
        workdir,
        **{
            "rasa_port": free_port(),
            "action_port": free_port(),
            "desk_port": free_port(),
            "rasa_token": "test-token-" + workdir.name,
            "desk_token": "desk-token-" + workdir.name,
            "desk_config": desk_config,
            "desk_tick_seconds": 1.0,
            "admin_password": ADMIN_PASSWORD,
            "event_queue": f"cskh_sandbox_{uuid.uuid4().hex[:12]}",
            **changes,
        },
    )


def delete_event_queue(settings: Settings) -> None:
    """Removes a scaled sandbox's RabbitMQ queue, its parking queue and its exchange: RabbitMQ keeps a durable
    queue after everyone left, and a sandbox's is nobody's afterwards."""

    async def delete() -> None:
        connection = await aio_pika.connect(settings.rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(settings.event_queue)
            await channel.queue_delete(settings.event_queue + UNREADABLE_SUFFIX)
            await channel.exchange_delete(settings.event_queue)

    asyncio.run(delete())


@contextmanager
def processes_in(
    workdir: Path, model: Path, extra_env: dict[str, str] | None = None, **changes: Any
) -> Iterator[tuple[Settings, Stack]]:
    """The real Rasa, action and desk servers on free loopback ports, their data under ``workdir``, with
    the processes themselves (to stop or restart one); ``changes`` to the settings, ``extra_env`` for what
    Rasa reads itself (channel credentials)."""
    settings = isolated_settings(workdir, **changes)
    with running_stack(settings, model, log_dir=workdir / "logs", extra_env=extra_env) as stack:
        yield settings, stack


@contextmanager
def stack_in(workdir: Path, model: Path, extra_env: dict[str, str] | None = None, **changes: Any) -> Iterator[Settings]:
    """``processes_in`` for callers that only talk to the servers."""
    with processes_in(workdir, model, extra_env, **changes) as (settings, _):
        yield settings


def eventually(
    check: Callable[[], T | None], timeout: float = 10, interval: float = 0.2, describe: Callable[[], Any] | None = None
) -> T:
    """What ``check()`` returns once it is truthy, calling it every ``interval`` seconds.

    A check may also assert: its AssertionError means "not yet". After ``timeout`` seconds the test
    fails with the last AssertionError, or with ``describe()`` (what was seen instead).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        else:
            if result:
                return result
            if time.monotonic() >= deadline:
                seen = describe() if describe else result
                raise AssertionError(f"not so within {timeout} s; last seen: {seen!r}")
        time.sleep(interval)


class RestCustomer:
    """One customer on the REST channel: says things on the webhook, reads later messages from the inbox."""

    def __init__(self, rasa_url: str, sender: str | None = None) -> None:
        self.rasa_url = rasa_url
        self.sender = sender or uuid.uuid4().hex
        self.since = 0.0
        self.buttons: list[dict[str, Any]] = []

    def say(self, text: str) -> list[dict[str, Any]]:
        """The bot's replies to ``text``; fails the test on anything but a 200."""
        reply = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": self.sender, "message": text}, timeout=60
        )
        assert reply.status_code == 200, reply.text
        replies = reply.json()
        self.buttons = [button for message in replies for button in message.get("buttons", [])]
        return replies

    def says(self, text: str) -> str:
        """The replies' texts as one string, one line each (the buttons are kept in ``buttons``)."""
        return "\n".join(message.get("text", "") for message in self.say(text))

    def inbox(self) -> list[dict[str, Any]]:
        """Messages that arrived after the last ones read (agent replies, queue updates)."""
        reply = requests.get(
            f"{self.rasa_url}/webhooks/rest/inbox", params={"since": self.since},
            headers={SESSION_HEADER: self.sender}, timeout=10,
        )  # fmt: skip
        reply.raise_for_status()
        messages = reply.json()["messages"]
        if messages:
            self.since = max(m["timestamp"] for m in messages)
        return messages

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15) -> dict[str, Any]:
        """The first later inbox message matching ``predicate``."""
        seen: list[dict[str, Any]] = []

        def arrived() -> dict[str, Any] | None:
            fresh = self.inbox()
            seen.extend(fresh)
            return next((message for message in fresh if predicate(message)), None)

        return eventually(arrived, timeout, describe=lambda: seen)


class WidgetCustomer:
    """One customer on the website widget's socket.io channel (the polling transport, as the widget
    falls back to behind a proxy): says things and hears the bot's ``bot_uttered`` events."""

    def __init__(self, client: socketio.AsyncClient, session_id: str) -> None:
        self.client = client
        self.session_id = session_id
        self.heard: asyncio.Queue[str] = asyncio.Queue()
        client.on("bot_uttered", lambda message: self.heard.put_nowait(message.get("text", "")))

    async def say(self, text: str) -> None:
        await self.client.emit("user_uttered", {"session_id": self.session_id, "message": text})

    async def next_reply(self, timeout: float = 15) -> str:
        return await asyncio.wait_for(self.heard.get(), timeout)


@asynccontextmanager
async def widget_customer(
    rasa_url: str, session_id: str | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[WidgetCustomer]:
    """A connected ``WidgetCustomer`` whose session has been requested; it leaves without waiting.

    python-socketio's ``disconnect`` waits for the pending long-poll, which the server answers only at
    its next ping (25 s): the engine.io close packet is sent and the poll abandoned instead.
    """
    client = socketio.AsyncClient()
    customer = WidgetCustomer(client, session_id or uuid.uuid4().hex)
    await client.connect(rasa_url, socketio_path="/socket.io", transports=["polling"], headers=headers or {})
    try:
        await client.emit("session_request", {"session_id": customer.session_id})
        yield customer
    finally:
        await client.eio.disconnect(abort=True)


def agent_reply_through(rasa_url: str, token: str, sender_id: str, text: str, agent: str) -> None:
    """An agent's reply appended as the desk appends it (bot/desk/rasa_client.py), but through the Rasa
    server at ``rasa_url``: one chosen replica, where the desk's own go through nginx to whichever."""
    reply = requests.post(
        f"{rasa_url}/conversations/{quote(sender_id, safe=':')}/tracker/events",
        params={"token": token, "output_channel": "latest", "execute_side_effects": "true", "include_events": "NONE"},
        json=[desk_message(text, agent=agent)], timeout=30,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text


def replica_urls(stack: Stack) -> list[str]:
    """Each Rasa replica's own address (``rasa-1``, ``rasa-2``…), bypassing nginx."""
    return [
        service.ready_url.split("/status")[0] for role, service in sorted(stack.services.items())
        if role.startswith("rasa-")
    ]  # fmt: skip


class DeskAgent:
    """Logs in to the console like a browser (login form with its CSRF token, session cookie), from
    ``address`` when given (sent as X-Forwarded-For, which only a trusted proxy's requests may carry)."""

    def __init__(self, desk_url: str, username: str, password: str, address: str | None = None) -> None:
        self.desk_url = desk_url
        self.http = requests.Session()
        if address:
            self.http.headers["X-Forwarded-For"] = address
        page = self.http.get(f"{desk_url}/login", timeout=10)
        form_token = CSRF_FIELD.search(page.text)
        if form_token is None:
            raise AssertionError(f"the login page holds no CSRF token (HTTP {page.status_code})")
        token = form_token.group(1)
        reply = self.http.post(
            f"{desk_url}/login", data={"username": username, "password": password, "csrf_token": token}, timeout=30
        )
        self.status = reply.status_code
        found = CSRF_BODY.search(reply.text)
        self.csrf = found.group(1) if found else ""

    def queue(self) -> dict[str, Any]:
        return self.http.get(f"{self.desk_url}/queue.json", timeout=10).json()

    def waiting_for(self, summary_part: str, timeout: float = 10) -> dict[str, Any]:
        """The waiting customer whose summary holds ``summary_part``."""

        def waiting() -> dict[str, Any] | None:
            return next((row for row in self.queue()["waiting"] if summary_part in row["summary"]), None)

        return eventually(waiting, timeout, describe=self.queue)

    def claim(self, handoff_id: int) -> requests.Response:
        return self.http.post(
            f"{self.desk_url}/handoffs/{handoff_id}/claim", data={"csrf_token": self.csrf}, timeout=10
        )

    def post(self, handoff_id: int, action: str, **fields: str) -> requests.Response:
        """A console action on a conversation (reply, note, handback, close), as the page's script sends it."""
        return self.http.post(
            f"{self.desk_url}/handoffs/{handoff_id}/{action}", json=fields,
            headers={"X-CSRF-Token": self.csrf}, timeout=15,
        )  # fmt: skip

    def messages(self, handoff_id: int) -> list[dict[str, Any]]:
        return self.http.get(f"{self.desk_url}/handoffs/{handoff_id}/messages.json", timeout=10).json()


class LiveStream:
    """Reads the console's server-sent events in the background (the queue's, and one conversation's when
    ``handoff_id`` is given, the tickets page's news with ``tickets``), noting when each arrived."""

    def __init__(self, agent: DeskAgent, handoff_id: int | None = None, tickets: bool = False) -> None:
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        params: dict[str, Any] = {} if handoff_id is None else {"handoff": handoff_id}
        if tickets:
            params["tickets"] = 1
        self._response = agent.http.get(f"{agent.desk_url}/stream", params=params, stream=True, timeout=30)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = None
        try:
            # None: each line as soon as it arrives (requests accepts it; its annotation says int)
            for raw in self._response.iter_lines(chunk_size=None):  # type: ignore[call-overload]
                line = raw.decode("utf-8")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    self.events.append((time.time(), event, json.loads(line[6:])))
        except (requests.RequestException, AttributeError):
            pass

    def wait_for(self, event: str, matches: Callable[[dict[str, Any]], bool], timeout: float = 5) -> float:
        """When the console received an ``event`` whose data ``matches`` (Unix time)."""

        def received() -> float | None:
            return next((at for at, name, data in list(self.events) if name == event and matches(data)), None)

        return eventually(received, timeout, interval=0.01, describe=lambda: self.events)

    def wait_for_message(self, text: str, timeout: float = 5) -> float:
        """When the console received the transcript line ``text`` (Unix time)."""
        return self.wait_for("message", lambda data: data.get("text") == text, timeout)

    def close(self) -> None:
        self._response.close()
