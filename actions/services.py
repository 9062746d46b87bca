"""The backends actions talk to, created once per action-server process."""

from functools import lru_cache

from bot.database import database_url, engine_for
from bot.orders.backend import OrderBackend, backend_from_env
from bot.tickets import TicketStore


@lru_cache(maxsize=1)
def order_backend() -> OrderBackend:
    """The demo shop or the shop's own API, as configured by the environment."""
    return backend_from_env()


@lru_cache(maxsize=1)
def ticket_store() -> TicketStore:
    """Tickets in the project database."""
    return TicketStore(engine_for(database_url()))
