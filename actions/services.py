"""The backends actions talk to, built once per settings.

rasa-sdk instantiates the actions without arguments, so they reach their
backends through these functions, for this process's ``current_settings()``:
the action server's own, or what a test put in force.
"""

import logging
from functools import cached_property, lru_cache
from pathlib import Path

from bot.attachments import AttachmentStore
from bot.attachments import attachment_store as store_for
from bot.catalog.backend import CatalogBackend, catalog_backend_for
from bot.database import project_engine
from bot.orders.backend import OrderBackend, order_backend_for
from bot.ownership import OwnershipLedger
from bot.settings import Settings, current_settings
from bot.support import issue_synonyms
from bot.text.entities import EntityFinder
from bot.text.lexicon import load_lexicon
from bot.tickets import TicketStore

logger = logging.getLogger(__name__)


class ActionServices:
    """The order system, the catalog, tickets and ownership proofs of one ``Settings``, each created on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def order_backend(self) -> OrderBackend:
        return order_backend_for(self.settings)

    @cached_property
    def catalog_backend(self) -> CatalogBackend:
        return catalog_backend_for(self.settings)

    @cached_property
    def ticket_store(self) -> TicketStore:
        return TicketStore(project_engine(self.settings))

    @cached_property
    def ownership_ledger(self) -> OwnershipLedger:
        return OwnershipLedger(project_engine(self.settings))

    @cached_property
    def attachment_store(self) -> AttachmentStore:
        return store_for(project_engine(self.settings), self.settings)

    def open_all(self) -> None:
        """Creates every backend now: each checks its tables (alembic reads its revision files) or builds
        its client on first use, and the first order question after a start paid 10-20 ms for it. One that
        cannot open now (its database down) is left to its first use: the server starts and says not ready."""
        for backend in ("order_backend", "catalog_backend", "ticket_store", "ownership_ledger", "attachment_store"):
            try:
                getattr(self, backend)
            except Exception as error:  # whatever the backend raises, it is retried when an action needs it
                logger.warning("The %s opens on first use: %s", backend.replace("_", " "), type(error).__name__)


@lru_cache(maxsize=4)
def services_for(settings: Settings) -> ActionServices:
    """One set of backends per settings, shared by every action of the process."""
    return ActionServices(settings)


def order_backend() -> OrderBackend:
    """The demo shop or the shop's own API, as the settings say."""
    return services_for(current_settings()).order_backend


def catalog_backend() -> CatalogBackend:
    """The demo catalog or the shop's own product API, as the settings say."""
    return services_for(current_settings()).catalog_backend


def ticket_store() -> TicketStore:
    """Tickets in the project database."""
    return services_for(current_settings()).ticket_store


def ownership_ledger() -> OwnershipLedger:
    """Proofs of ownership and failed attempts, shared by every action server and channel."""
    return services_for(current_settings()).ownership_ledger


def attachment_store() -> AttachmentStore:
    """Customers' pictures and files, to attach to the tickets they belong to."""
    return services_for(current_settings()).attachment_store


def open_backends() -> None:
    """Every backend of this process's settings and the reply reader, before the first customer."""
    services_for(current_settings()).open_all()
    shared_finder()


@lru_cache(maxsize=1)
def shared_finder() -> EntityFinder:
    """Order numbers, phones, e-mails and the shop's issue types in a reply, built once per process."""
    return EntityFinder(issue_synonyms())


def shop_teencode() -> dict[str, str]:
    """The teencode lexicon of the data dir the bot was trained from, for reading replies in actions."""
    return _lexicon_in(current_settings().data_dir / "lexicon")


@lru_cache(maxsize=4)
def _lexicon_in(directory: Path) -> dict[str, str]:
    return load_lexicon(directory)


def nlu_endpoint() -> tuple[str, str]:
    """Rasa's HTTP API (for ``/model/parse``) and its token."""
    settings = current_settings()
    return settings.rasa_url, settings.rasa_token


def desk_endpoint() -> tuple[str, str]:
    """The human desk's service API and its token."""
    settings = current_settings()
    return settings.desk_url, settings.desk_token
