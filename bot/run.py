"""``make run``: train if the data changed, start every server, print where they are."""

import logging
from datetime import datetime, timezone

import sqlalchemy as sa

from bot import migrations
from bot.database import masked_url, project_engine
from bot.desk.accounts import FIRST_ADMIN, AccountStore, ensure_first_admin
from bot.desk.hours import DayOff, load_desk_config
from bot.paths import PROJECT_ROOT
from bot.processes import running_stack, supervise
from bot.settings import Settings, current_settings
from bot.training import TrainingInputError, ensure_model


def _admin_login(settings: Settings) -> str:
    """Where the first admin's password is, never the password: the banner ends up in logs."""
    store = AccountStore(project_engine(settings))
    if ensure_first_admin(store, settings.admin_password, settings.admin_password_file):
        where = settings.admin_password_file
        shown = where.relative_to(PROJECT_ROOT) if where.is_relative_to(PROJECT_ROOT) else where
        return f"{FIRST_ADMIN} / the password in {shown}"
    return f"{FIRST_ADMIN} / the password in $CSKH_ADMIN_PASSWORD when the account was created"


def _desk_hours(settings: Settings, now: datetime) -> str:
    """Whether a request for a person reaches the live queue now: outside the hours it becomes a ticket."""
    config = load_desk_config(settings.desk_config)
    days_off = config.next_break(now)
    upcoming = f"; next day off {_days_off(days_off)}" if days_off else ""
    if config.is_open(now):
        return f"open now: requests for a person wait in the console's queue{upcoming}"
    opening = config.local(config.next_opening(now)).strftime("%a %H:%M (%d/%m/%Y)")
    return f"closed until {opening}: every request for a person becomes a ticket (desk.yml){upcoming}"


def _days_off(days: list[DayOff]) -> str:
    """ "Thu 04/02/2027-Wed 10/02/2027 (29 Tết)": the first and last day of a break and why it starts."""
    first, last = days[0], days[-1]
    span = f"{first.day:%a %d/%m/%Y}" + (f"-{last.day:%a %d/%m/%Y}" if last != first else "")
    return f"{span} ({first.holiday or 'shop closure in desk.yml'})"


def _banner(settings: Settings, login: str, now: datetime) -> str:
    return "\n".join(
        [
            "",
            "cskh-bot is running:",
            f"  Rasa server (REST channel)  {settings.rasa_url}/webhooks/rest/webhook",
            f"  REST inbox (later replies)  {settings.rasa_url}/webhooks/rest/inbox?since=0 (header X-Chat-Session)",
            f"  Action server               {settings.action_url}",
            f"  Demo shop with chat widget  {settings.rasa_url}/webhooks/socketio/demo",
            f"  Agent console               {settings.desk_url}/",
            f"  Console login               {login}",
            f"  Admin pages                 {settings.desk_url}/admin/faq",
            f"  Agents' hours               {_desk_hours(settings, now)}",
            "  Chat in a terminal:         make shell",
            "  Rasa HTTP API token:        in var/rasa_token.secret (or $RASA_AUTH_TOKEN)",
            "Press Ctrl-C to stop everything.",
            "",
        ]
    )


def main() -> int:
    """Runs until Ctrl-C or SIGTERM, starting again any server that dies; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the upgrade's own line below says what it did
    settings = current_settings()
    try:
        load_desk_config(settings.desk_config)  # a broken desk.yml stops here with its message, before any server
    except ValueError as error:
        print(f"Cannot start: {error}")
        return 1
    try:
        model = ensure_model(settings.data_dir, settings.models_dir, settings.model_config)
    except TrainingInputError as error:
        print(f"Cannot train: {error}")
        return 1
    try:  # before any server starts, so none of them meets an old schema
        print(migrations.upgrade(project_engine(settings)).describe(masked_url(settings.database_url)), flush=True)
    except (migrations.UpgradeError, sa.exc.SQLAlchemyError) as error:
        print(f"Cannot upgrade the project database: {error}")
        return 1
    return supervise(
        running_stack(settings, model), lambda: _banner(settings, _admin_login(settings), datetime.now(timezone.utc))
    )


if __name__ == "__main__":
    raise SystemExit(main())
