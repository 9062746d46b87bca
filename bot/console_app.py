"""The desk process's one web app: the agents' console and service API (bot/desk) with the admin
pages (bot/admin/web.py), the tickets page (bot/admin/tickets_page.py) and the catalog page
(bot/admin/catalog_page.py) mounted on it.

The admin pages use the console's login, sessions and base template (their own pages are in
bot/admin/templates), so bot/admin imports bot/desk and never the reverse; this module, above both,
is the one place that puts them on one sanic app.
"""

import asyncio

from sanic import Sanic

from bot.admin.agents_page import agents_page
from bot.admin.canned_page import canned_page
from bot.admin.catalog_page import catalog_page
from bot.admin.notifications_page import notifications_page
from bot.admin.tickets_page import tickets_page
from bot.admin.transfer_page import transfer_page
from bot.admin.web import TEMPLATES, RetrainRunner, admin
from bot.catalog.backend import catalog_backend_for
from bot.desk.app import create_app as create_desk_app
from bot.settings import Settings


def create_app(settings: Settings) -> Sanic:
    """The console, its service API and the admin pages, wired to the database and Rasa in ``settings``."""
    app = create_desk_app(settings, [TEMPLATES])
    app.blueprint(admin)
    app.blueprint(tickets_page)
    app.blueprint(canned_page)
    app.blueprint(transfer_page)
    app.blueprint(agents_page)
    app.blueprint(notifications_page)  # order updates sent, failed or skipped
    app.blueprint(catalog_page)  # the products as the bot reads them, for every agent
    app.ctx.retrain = RetrainRunner()  # at most one background retrain per console

    @app.before_server_start
    async def open_catalog(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
        app.ctx.catalog = catalog_backend_for(settings)  # the demo catalog or the shop's product API

    return app
