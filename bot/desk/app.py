"""The agents' console and the desk's service API on one sanic app (bot/console_app.py adds the admin pages).

``python -m bot.serve desk`` runs it on ``DESK_HOST`` / ``DESK_API_HOST`` (127.0.0.1 unless set),
and talks to Rasa with the same token the other processes use; everything it needs comes in ``Settings``.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Request, Sanic, response
from sanic.response import HTTPResponse

from bot.attachments import attachment_store
from bot.database import project_engine
from bot.desk.accounts import AccountStore, ensure_first_admin
from bot.desk.api import api
from bot.desk.attachment_files import attachment_files
from bot.desk.canned_routes import canned_routes
from bot.desk.console import KDF_SLOTS, console
from bot.desk.event_consumer import EventConsumer
from bot.desk.files_out import files_out
from bot.desk.hours import DeskConfigFile
from bot.desk.label_routes import label_routes
from bot.desk.live import live_hub
from bot.desk.order_webhook import mount_order_updates
from bot.desk.presence import presence
from bot.desk.queue import Handoff, HandoffQueue
from bot.desk.rasa_client import RasaClient
from bot.desk.search_page import search_page
from bot.desk.service import Desk
from bot.desk.throttle import LoginThrottle
from bot.messaging_windows import WindowRules
from bot.observability.metrics import desk_metrics
from bot.observability.web import database_check, observe, path_channel
from bot.orders.backend import order_backend_for
from bot.paths import PROJECT_ROOT
from bot.settings import Settings
from bot.tickets import TicketStore

logger = logging.getLogger(__name__)
DESK_DIR = PROJECT_ROOT / "bot" / "desk"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _templates(config_timezone, extra_folders: Sequence[Path]) -> Environment:
    environment = Environment(
        loader=FileSystemLoader([DESK_DIR / "templates", *extra_folders]),
        autoescape=select_autoescape(["html"], default=True),
    )
    environment.filters["clock"] = lambda moment: (
        (moment if isinstance(moment, datetime) else datetime.fromtimestamp(moment, timezone.utc))
        .astimezone(config_timezone)
        .strftime("%H:%M %d/%m")
    )
    return environment


def _waited(handoff: Handoff) -> float:
    return (datetime.now(timezone.utc) - handoff.created_at).total_seconds()


def create_app(settings: Settings, template_folders: Sequence[Path] = ()) -> Sanic:
    """The console and API, wired to the project database and the Rasa server in ``settings``;
    ``template_folders`` hold the pages of what is mounted on it (they extend the console's base.html)."""
    app = Sanic("cskh_desk", configure_logging=False)  # the process's logging is bot/observability/logs.py
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.RESPONSE_TIMEOUT = 24 * 3600  # live streams stay open
    config_file = DeskConfigFile(settings.desk_config)
    app.ctx.templates = _templates(config_file.current().timezone, template_folders)
    app.ctx.service_token = settings.desk_token
    app.ctx.tracker_db = settings.tracker_db
    app.ctx.data_dir = settings.data_dir  # topic titles and shop facts staff see (bot.topic_titles)
    app.ctx.secure_cookies = settings.secure_cookies
    app.ctx.trusted_proxies = settings.trusted_proxies
    app.ctx.window_rules = WindowRules.of(settings)  # Zalo's billable replies, Messenger's Human Agent permission
    app.ctx.login_throttle = LoginThrottle()
    app.static("/static", str(DESK_DIR / "static"))
    app.blueprint(api)
    app.blueprint(console)
    app.blueprint(canned_routes)
    app.blueprint(label_routes)
    app.blueprint(files_out)  # agents' pictures and PDFs to the customer
    app.blueprint(search_page)
    app.blueprint(presence)
    app.blueprint(attachment_files)  # customers' pictures and PDFs, to staff
    mount_order_updates(app, settings)  # the shop's order-status webhook; updates to widget and REST customers

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    async def database() -> None:
        await database_check(app.ctx.engine)()

    observe(
        app, registry=desk_metrics().registry, metrics_token=settings.metrics_token,
        trusted_proxies=settings.trusted_proxies, checks={"database": database}, health=False,
        channel_of=path_channel({"/api/": "service", "/admin": "admin", "/static/": "static"}, "console"),
    )  # fmt: skip

    @app.middleware("response")
    async def security_headers(request: Request, reply: HTTPResponse) -> None:
        reply.headers.update(SECURITY_HEADERS)

    @app.before_server_start
    async def start_desk(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        engine = project_engine(settings)
        app.ctx.engine = engine
        app.ctx.orders = order_backend_for(settings)  # the customer panel's proven orders
        app.ctx.kdf_slots = asyncio.Semaphore(KDF_SLOTS)
        app.ctx.attachments = attachment_store(engine, settings)
        accounts = AccountStore(engine)
        ensure_first_admin(accounts, settings.admin_password, settings.admin_password_file)
        rasa = RasaClient(settings.rasa_url, settings.rasa_token)
        queue = HandoffQueue(engine)
        hub = live_hub(settings)  # shared with the other desk instances when there are several
        await hub.start()
        app.ctx.attachments = attachment_store(engine, settings)
        app.ctx.desk = Desk(queue, accounts, TicketStore(engine), rasa, config_file, hub)
        app.ctx.desk.new_tickets.check()  # what exists now is not news to the tickets pages
        app.ctx.event_consumer = None
        if settings.events_via_rabbitmq:  # the scaled stack: Rasa's events wait in RabbitMQ while the desk is down
            app.ctx.event_consumer = EventConsumer(settings.rabbitmq_url, settings.event_queue,
                                                   app.ctx.desk.conversation_event)  # fmt: skip
            app.ctx.event_consumer.start()
        desk_metrics().read_from(
            waiting=lambda: len(queue.waiting()),
            oldest_wait=lambda: max((_waited(handoff) for handoff in queue.waiting()), default=0.0),
            agents_online=accounts.online_count,
        )

    @app.after_server_start
    async def start_timer(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        async def every_few_seconds() -> None:
            while True:
                await asyncio.sleep(settings.desk_tick_seconds)
                try:
                    await app.ctx.desk.tick()
                except Exception:  # the timer must outlive a bad tick (e.g. the database restarting)
                    logger.exception("desk timer")

        app.ctx.timer = loop.create_task(every_few_seconds())

    @app.before_server_stop
    async def stop_desk(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        app.ctx.timer.cancel()
        if app.ctx.event_consumer is not None:
            await app.ctx.event_consumer.stop()
        await app.ctx.desk.rasa.close()
        await app.ctx.desk.hub.close()

    return app
