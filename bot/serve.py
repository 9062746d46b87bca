"""Starts one server process of the stack; ``bot.processes`` supervises them.

``rasa``: Rasa's own ``serve_application`` with the HTTP API behind the auth
token read from the environment (never on the command line, where ``ps``
would show it); the webhooks listen on ``CSKH_HOST``, the HTTP API answers
only on ``RASA_API_HOST`` (both 127.0.0.1 by default, bot/doors.py).
``actions``: the rasa-sdk action server on ``ACTION_HOST`` (rasa-sdk reads
``SANIC_HOST`` and otherwise listens on every interface), obeying only
requests that carry ``ACTION_SERVER_TOKEN``.
``desk``: the agents' console on ``DESK_HOST``, its service API on ``DESK_API_HOST``.
"""

import argparse
import logging
import os
from collections.abc import Sequence
from typing import Any

from bot import doors
from bot.paths import CREDENTIALS_FILE, ENDPOINTS_FILE, private_var_dir
from bot.settings import load_settings


def serve_rasa(model: str) -> None:
    """Runs the Rasa server on the given model."""
    from rasa.core.run import serve_application
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # Rasa logs parsed messages at DEBUG: keep customers' words out of the logs unless asked.
    configure_logging_and_warnings()
    configure_structlog()
    settings = load_settings()
    os.environ.setdefault("ACTION_SERVER_URL", settings.action_url)
    os.environ.setdefault("TRACKER_DB", settings.tracker_db)
    os.environ.setdefault("DESK_URL", settings.desk_url)
    os.environ.setdefault("DESK_SERVICE_TOKEN", settings.desk_token)
    os.environ.setdefault("ACTION_SERVER_TOKEN", settings.action_token)  # endpoints.yml sends it to the actions
    private_var_dir()  # the default tracker database lives there

    def split_doors(app: Any, _loop: Any) -> None:
        doors.split_by_interface(app, doors.rasa_is_internal, settings.host, settings.rasa_api_host)

    serve_application(
        model_path=model,
        interface=doors.bind_address(settings.host, settings.rasa_api_host),
        port=settings.rasa_port,
        credentials=str(CREDENTIALS_FILE),
        auth_token=settings.rasa_token,
        enable_api=True,
        endpoints=AvailableEndpoints.read_endpoints(os.environ.get("CSKH_ENDPOINTS") or str(ENDPOINTS_FILE)),
        # the widget on the shop's own site reads its inbox from here; no cookies are involved
        cors=os.environ.get("CSKH_WIDGET_ORIGINS", "*").split(),
        server_listeners=[(split_doors, "before_server_start")],
    )


def serve_actions() -> None:
    """Runs the action server on the project's ``actions`` package."""
    from rasa_sdk.endpoint import run

    settings = load_settings()
    os.environ["SANIC_HOST"] = settings.action_host
    doors.protect_action_server(settings.action_token)
    run("actions", port=settings.action_port, cors_origins=None)


def serve_desk() -> None:
    """Runs the agents' console and the desk's service API."""
    from bot.desk.app import create_app

    settings = load_settings()
    app = create_app(settings)
    doors.split_by_interface(app, doors.desk_is_internal, settings.desk_host, settings.desk_api_host)
    host = doors.bind_address(settings.desk_host, settings.desk_api_host)
    app.run(host=host, port=settings.desk_port, access_log=False, motd=False)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m bot.serve rasa --model M``, ``... actions`` or ``... desk``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("role", choices=["rasa", "actions", "desk"])
    parser.add_argument("--model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    if args.role == "rasa":
        if not args.model:
            parser.error("rasa needs --model")
        serve_rasa(args.model)
    elif args.role == "desk":
        serve_desk()
    else:
        serve_actions()


if __name__ == "__main__":
    main()
