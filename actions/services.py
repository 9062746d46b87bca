"""The backends actions talk to, created once per action-server process."""

import os
from functools import lru_cache

from bot.database import database_url, engine_for
from bot.orders.backend import OrderBackend, backend_from_env
from bot.ownership import OwnershipLedger
from bot.settings import load_settings
from bot.tickets import TicketStore


@lru_cache(maxsize=1)
def order_backend() -> OrderBackend:
    """The demo shop or the shop's own API, as configured by the environment."""
    return backend_from_env()


@lru_cache(maxsize=1)
def ticket_store() -> TicketStore:
    """Tickets in the project database."""
    return TicketStore(engine_for(database_url()))


@lru_cache(maxsize=1)
def ownership_ledger() -> OwnershipLedger:
    """Proofs of ownership and failed attempts, shared by every action server and channel."""
    return OwnershipLedger(engine_for(database_url()))


def nlu_endpoint() -> tuple[str, str]:
    """Rasa's HTTP API (for ``/model/parse``) and its token, as bot.processes gives them to every child."""
    settings = load_settings()
    return settings.rasa_url, settings.rasa_token


def desk_endpoint() -> tuple[str, str]:
    """The human desk's base URL and service token (set by bot.processes for every child)."""
    return os.environ.get("DESK_URL", "http://127.0.0.1:5006"), os.environ.get("DESK_SERVICE_TOKEN", "")
