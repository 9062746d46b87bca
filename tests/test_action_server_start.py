"""The action server opens its backends before the first customer, and starts even when one cannot open."""

import requests
from sanic import Sanic

from actions.services import services_for
from bot.sandbox import free_port, isolated_settings
from bot.serve import action_app
from bot.settings import settings_in_force
from tests.served import served

BACKENDS = ("order_backend", "catalog_backend", "ticket_store", "ownership_ledger", "attachment_store")


def test_every_backend_is_open_before_the_first_order_question(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    settings = isolated_settings(tmp_path)
    with settings_in_force(settings), served(action_app(settings), settings.action_port):
        # created at start, not by the first customer's order question (10-20 ms on each action server)
        assert set(BACKENDS) <= set(vars(services_for(settings)))
        assert requests.get(f"http://127.0.0.1:{settings.action_port}/ready", timeout=10).status_code == 200


def test_a_backend_that_cannot_open_at_start_is_opened_when_an_action_needs_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    dead = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/none"
    settings = isolated_settings(tmp_path / "down", database_url=dead)
    with settings_in_force(settings), served(action_app(settings), settings.action_port):
        services = services_for(settings)
        assert "ownership_ledger" not in vars(services)  # not kept broken: the next use tries again
        assert "order_backend" in vars(services)  # the demo shop's own file opened all the same
        assert requests.get(f"http://127.0.0.1:{settings.action_port}/health", timeout=10).status_code == 200
