"""The desk's calls to the Rasa server's HTTP API (token-protected).

Agent replies, queue updates and the hand-back are appended to the
customer's tracker with ``execute_side_effects``, so Rasa itself delivers them
on the customer's own channel and the history stays whole. What those events
look like (``desk_message``, ``resume_events``) is in bot/handoff_protocol.py.
"""

import asyncio
from typing import Any
from urllib.parse import quote

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=10)


class RasaUnavailableError(RuntimeError):
    """Rasa did not take the request; the message says why without the token."""


class RasaClient:
    """Async client for the few Rasa endpoints the desk needs."""

    def __init__(self, base_url: str, token: str) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(self, method: str, path: str, params: dict[str, str] | None = None, body: Any = None) -> Any:
        query = {"token": self._token, **(params or {})}
        try:
            async with self._http().request(
                method, f"{self._base_url}{path}", params=query, json=body, headers={"Accept": "application/json"}
            ) as reply:
                if reply.status >= 400:
                    raise RasaUnavailableError(f"Rasa answered {reply.status} to {method} {path.split('?')[0]}")
                return await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise RasaUnavailableError(f"Rasa unreachable ({type(error).__name__})") from error

    async def append(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Adds events to the conversation and sends any bot messages among them to the customer."""
        await self._call(
            "POST",
            f"/conversations/{quote(sender_id, safe='')}/tracker/events",
            {"output_channel": "latest", "execute_side_effects": "true", "include_events": "NONE"},
            events,
        )

    async def events(self, sender_id: str) -> list[dict[str, Any]]:
        """The conversation's events since its last restart."""
        tracker = await self._call("GET", f"/conversations/{quote(sender_id, safe='')}/tracker")
        return tracker.get("events") or []

    async def parse(self, text: str) -> dict[str, Any]:
        return await self._call("POST", "/model/parse", body={"text": text})

    async def model_id(self) -> str:
        """The fingerprint of the model Rasa serves now (``/status``): it changes with every new model."""
        status = await self._call("GET", "/status")
        return str(status.get("model_id") or status.get("model_file") or "")

    async def domain_responses(self) -> dict[str, Any]:
        domain = await self._call("GET", "/domain", {}, None)
        return domain.get("responses") or {}
