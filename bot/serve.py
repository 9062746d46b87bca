"""Starts one server process of the stack; ``bot.processes`` supervises them.

Each reads its ``Settings`` from the environment the supervisor gave it
(bot/settings.py), once, and passes them on.

``rasa``: Rasa's own ``serve_application`` with the HTTP API behind the auth
token from the settings (never on the command line, where ``ps`` would show
it); the webhooks listen on ``CSKH_HOST``, the HTTP API answers only on
``RASA_API_HOST`` (both 127.0.0.1 by default, bot/doors.py).
``actions``: the rasa-sdk action server on ``ACTION_HOST`` (rasa-sdk reads
``SANIC_HOST`` and otherwise listens on every interface), obeying only
requests that carry ``ACTION_SERVER_TOKEN``.
``desk``: the agents' console on ``DESK_HOST``, its service API on ``DESK_API_HOST``.
"""

import argparse
import logging
from collections.abc import Sequence
from typing import Any

from bot import doors
from bot.paths import CREDENTIALS_FILE, private_var_dir
from bot.settings import Settings, current_settings, publish, publish_for_rasa


def serve_rasa(settings: Settings, model: str) -> None:
    """Runs the Rasa server on the last release's model, else the given one: a replica restarted after
    a retrain must not go back to the model the stack started with."""
    from rasa.core.run import serve_application
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    from bot.admin.retrain import released_model

    # Rasa logs parsed messages at DEBUG: keep customers' words out of the logs unless asked.
    configure_logging_and_warnings()
    configure_structlog()
    publish_for_rasa(settings)  # endpoints.yml and credentials.yml name their values as ${VAR}s
    private_var_dir(settings.var_dir)  # the default tracker database lives there

    def split_doors(app: Any, _loop: Any) -> None:
        doors.split_by_interface(app, doors.rasa_is_internal, settings.host, settings.rasa_api_host)

    serve_application(
        model_path=str(released_model(settings) or model),
        interface=doors.bind_address(settings.host, settings.rasa_api_host),
        port=settings.rasa_port,
        credentials=str(CREDENTIALS_FILE),
        auth_token=settings.rasa_token,
        enable_api=True,
        endpoints=AvailableEndpoints.read_endpoints(str(settings.endpoints_file)),
        # the widget on the shop's own site reads its inbox from here; no cookies are involved
        cors=list(settings.widget_origins),
        server_listeners=[(split_doors, "before_server_start")],
    )


def serve_actions(settings: Settings) -> None:
    """Runs the action server on the project's ``actions`` package (whose actions ask ``current_settings()``)."""
    from rasa_sdk.endpoint import run

    publish({"SANIC_HOST": settings.action_host})
    doors.protect_action_server(settings.action_token)
    run("actions", port=settings.action_port, cors_origins=None)


def serve_desk(settings: Settings) -> None:
    """Runs the agents' console and the desk's service API."""
    from bot.console_app import create_app

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
    settings = current_settings()  # the same object Rasa's channels and the actions will ask for
    logging.basicConfig(level=settings.log_level)
    if args.role == "rasa":
        if not args.model:
            parser.error("rasa needs --model")
        serve_rasa(settings, args.model)
    elif args.role == "desk":
        serve_desk(settings)
    else:
        serve_actions(settings)


if __name__ == "__main__":
    main()
