"""Which support.yml teams each agent works in: admins set them (bot/admin/agents_page.py), the queue
puts an agent's teams' customers first and a transfer may name a team (bot/desk/transfer.py).

The teams themselves are the shop's (data/shop/support.yml); a key no longer there is ignored on read
and refused on write, so a renamed team never routes a customer to nobody.
"""

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import agent_teams_table
from bot.support import FALLBACK_TEAM, team_names


def team_name(team: str | None) -> str:
    """The Vietnamese name of ``team``; a hand-off from before teams (None) is customer care's."""
    names = team_names()
    return names.get(team or FALLBACK_TEAM, names.get(FALLBACK_TEAM, team or ""))


class TeamStore:
    """Agents' team memberships in the project database."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def teams_of(self, username: str) -> list[str]:
        """``username``'s teams, in support.yml's order."""
        with self._engine.connect() as connection:
            found = set(
                connection.execute(
                    sa.select(agent_teams_table.c.team).where(agent_teams_table.c.username == username)
                ).scalars()
            )
        return [team for team in team_names() if team in found]

    def all_memberships(self) -> dict[str, list[str]]:
        """Every agent's teams (agents in none are absent), for the admin page."""
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(agent_teams_table)).all()
        members: dict[str, list[str]] = {}
        for team in team_names():
            for row in rows:
                if row.team == team:
                    members.setdefault(row.username, []).append(team)
        return members

    def set_teams(self, username: str, teams: list[str]) -> None:
        """Replaces ``username``'s teams; raises ValueError for a team support.yml does not have."""
        unknown = sorted(set(teams) - set(team_names()))
        if unknown:
            raise ValueError(f"unknown team {unknown[0]!r}")
        with self._engine.begin() as connection:
            connection.execute(agent_teams_table.delete().where(agent_teams_table.c.username == username))
            for team in sorted(set(teams)):
                connection.execute(agent_teams_table.insert().values(username=username, team=team))
