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

from bot.database import project_engine
from bot.desk.accounts import AccountStore, ensure_first_admin
from bot.desk.api import api
from bot.desk.console import KDF_SLOTS, console
from bot.desk.hours import DeskConfigFile
from bot.desk.live import live_hub
from bot.desk.queue import HandoffQueue
from bot.desk.rasa_client import RasaClient
from bot.desk.service import Desk
from bot.desk.throttle import LoginThrottle
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


def create_app(settings: Settings, template_folders: Sequence[Path] = ()) -> Sanic:
    """The console and API, wired to the project database and the Rasa server in ``settings``;
    ``template_folders`` hold the pages of what is mounted on it (they extend the console's base.html)."""
    app = Sanic("cskh_desk")
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.RESPONSE_TIMEOUT = 24 * 3600  # live streams stay open
    config_file = DeskConfigFile(settings.desk_config)
    app.ctx.templates = _templates(config_file.current().timezone, template_folders)
    app.ctx.service_token = settings.desk_token
    app.ctx.tracker_db = settings.tracker_db
    app.ctx.secure_cookies = settings.secure_cookies
    app.ctx.trusted_proxies = settings.trusted_proxies
    app.ctx.login_throttle = LoginThrottle()
    app.static("/static", str(DESK_DIR / "static"))
    app.blueprint(api)
    app.blueprint(console)

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.middleware("response")
    async def security_headers(request: Request, reply: HTTPResponse) -> None:
        reply.headers.update(SECURITY_HEADERS)

    @app.before_server_start
    async def start_desk(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        engine = project_engine(settings)
        app.ctx.engine = engine
        app.ctx.kdf_slots = asyncio.Semaphore(KDF_SLOTS)
        accounts = AccountStore(engine)
        ensure_first_admin(accounts, settings.admin_password, settings.admin_password_file)
        rasa = RasaClient(settings.rasa_url, settings.rasa_token)
        hub = live_hub(settings)  # shared with the other desk instances when there are several
        await hub.start()
        app.ctx.desk = Desk(HandoffQueue(engine), accounts, TicketStore(engine), rasa, config_file, hub)

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
        await app.ctx.desk.rasa.close()
        await app.ctx.desk.hub.close()

    return app
