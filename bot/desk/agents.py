"""``python -m bot.desk.agents``: manage console accounts from the command line.

python -m bot.desk.agents add lan "Lan"          # asks for the password
python -m bot.desk.agents add chi "Chi" --admin
python -m bot.desk.agents list
"""

import argparse
import getpass
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from bot.database import database_url, engine_for
from bot.desk.accounts import ADMIN, AGENT, AccountStore, agents_table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Console accounts")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an agent account")
    add.add_argument("username")
    add.add_argument("display_name", help="the name customers see, e.g. Lan")
    add.add_argument("--admin", action="store_true")
    commands.add_parser("list", help="list accounts")
    args = parser.parse_args(argv)
    engine = engine_for(database_url())
    store = AccountStore(engine)
    if args.command == "list":
        with engine.connect() as connection:
            for row in connection.execute(sa.select(agents_table).order_by(agents_table.c.username)):
                print(f"{row.username:20} {row.role:6} {row.display_name}")
        return 0
    if store.agent(args.username):
        print(f"{args.username} already exists", file=sys.stderr)
        return 1
    password = getpass.getpass("Password (10+ characters): ")
    if password != getpass.getpass("Again: "):
        print("The passwords differ.", file=sys.stderr)
        return 1
    try:
        store.add_agent(args.username, password, args.display_name, ADMIN if args.admin else AGENT)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.username} can now log in to the console.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
