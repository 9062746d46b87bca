"""Who changed what in the bot's knowledge, and when: one row per change."""

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import audit_table


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditLog:
    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def record(self, actor: str, action: str, target: str, **detail: Any) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                audit_table.insert().values(
                    at=datetime.now(timezone.utc), actor=actor, action=action, target=target,
                    detail=json.dumps(detail, ensure_ascii=False, default=str),
                )
            )  # fmt: skip

    def latest(self, limit: int = 100) -> list[AuditEntry]:
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(audit_table).order_by(audit_table.c.id.desc()).limit(limit)).all()
        return [AuditEntry(r.at, r.actor, r.action, r.target, json.loads(r.detail)) for r in rows]
