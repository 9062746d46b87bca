"""A customer on the REST channel and an agent in the console, as real HTTP clients.

Shared by the end-to-end handoff tests and the browser test.
"""

import json
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from bot.senders import SESSION_HEADER

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_BODY = re.compile(r'data-csrf="([^"]+)"')


class Customer:
    """Chats over /webhooks/rest/webhook and picks up later messages from the inbox."""

    def __init__(self, rasa_url: str, sender: str) -> None:
        self.rasa_url, self.sender = rasa_url, sender
        self.since = 0.0

    def say(self, text: str) -> list[dict[str, Any]]:
        reply = requests.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": self.sender, "message": text}, timeout=30
        )
        reply.raise_for_status()
        return reply.json()

    def inbox(self) -> list[dict[str, Any]]:
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
        """The first later message matching ``predicate``; fails the test after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            for message in self.inbox():
                seen.append(message)
                if predicate(message):
                    return message
            time.sleep(0.2)
        raise AssertionError(f"no such message within {timeout} s; got {seen}")


class Agent:
    """Logs in to the console like a browser: login form with CSRF, session cookie."""

    def __init__(self, desk_url: str, username: str, password: str) -> None:
        self.desk_url = desk_url
        self.http = requests.Session()
        page = self.http.get(f"{desk_url}/login", timeout=10)
        token = CSRF_FIELD.search(page.text).group(1)
        reply = self.http.post(
            f"{desk_url}/login", data={"username": username, "password": password, "csrf_token": token}, timeout=10
        )
        self.status = reply.status_code
        found = CSRF_BODY.search(reply.text)
        self.csrf = found.group(1) if found else ""

    def queue(self) -> dict[str, Any]:
        return self.http.get(f"{self.desk_url}/queue.json", timeout=10).json()

    def waiting_for(self, summary_part: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for row in self.queue()["waiting"]:
                if summary_part in row["summary"]:
                    return row
            time.sleep(0.2)
        raise AssertionError(f"nobody waiting with {summary_part!r}: {self.queue()}")

    def claim(self, handoff_id: int) -> requests.Response:
        return self.http.post(
            f"{self.desk_url}/handoffs/{handoff_id}/claim", data={"csrf_token": self.csrf}, timeout=10
        )

    def post(self, handoff_id: int, action: str, **fields: str) -> requests.Response:
        return self.http.post(
            f"{self.desk_url}/handoffs/{handoff_id}/{action}", json=fields,
            headers={"X-CSRF-Token": self.csrf}, timeout=15,
        )  # fmt: skip

    def messages(self, handoff_id: int) -> list[dict[str, Any]]:
        return self.http.get(f"{self.desk_url}/handoffs/{handoff_id}/messages.json", timeout=10).json()


class LiveStream:
    """Reads the console's server-sent events in the background, noting when each arrived."""

    def __init__(self, agent: Agent, handoff_id: int) -> None:
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self._response = agent.http.get(
            f"{agent.desk_url}/stream", params={"handoff": handoff_id}, stream=True, timeout=30
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = None
        try:
            for raw in self._response.iter_lines(chunk_size=None):
                line = raw.decode("utf-8")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    self.events.append((time.time(), event, json.loads(line[6:])))
        except (requests.RequestException, AttributeError):
            pass

    def wait_for_message(self, text: str, timeout: float = 5) -> float:
        """When the console received the transcript line ``text`` (Unix time)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for arrived, event, data in list(self.events):
                if event == "message" and data.get("text") == text:
                    return arrived
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not streamed within {timeout} s")

    def close(self) -> None:
        self._response.close()
