"""Issue types and their routing, from ``data/shop/support.yml``.

Shared by the ticket store (team, promised response time) and the entity
extractor (the words customers use for each type).
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.paths import SHOP_DIR

SUPPORT_FILE = SHOP_DIR / "support.yml"
FALLBACK_ISSUE_TYPE = "other"
FALLBACK_TEAM = "customer_care"  # a hand-off with no issue type collected goes here


@dataclass(frozen=True)
class IssueType:
    key: str
    label: str
    team: str
    team_name: str
    response_time: str
    synonyms: tuple[str, ...]


def load_issue_types(path: Path = SUPPORT_FILE) -> dict[str, IssueType]:
    """Every issue type with its team; raises ValueError on a malformed file."""
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        teams = config["teams"]
        return {
            key: IssueType(
                key, spec["label"], spec["team"], teams[spec["team"]], spec["response_time"],
                tuple(str(s) for s in spec.get("synonyms", [])),
            )
            for key, spec in config["issue_types"].items()
        }  # fmt: skip
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{path.name}: malformed issue type config ({error!r})") from error


@lru_cache(maxsize=1)
def issue_types() -> dict[str, IssueType]:
    """The shop's issue types, read once per process."""
    return load_issue_types()


@lru_cache(maxsize=1)
def team_names() -> dict[str, str]:
    """Each team's key and the Vietnamese name staff and customers read, in support.yml's order."""
    config = yaml.safe_load(SUPPORT_FILE.read_text(encoding="utf-8")) or {}
    return {str(key): str(name) for key, name in (config.get("teams") or {}).items()}


def issue_synonyms() -> dict[str, list[str]]:
    """The phrases customers use for each issue type, labels included: what the entity finder
    (bot/text/entities.py, which knows no shop) is given to recognise."""
    return {key: [t.label, *t.synonyms] for key, t in load_issue_types().items()}


def issue_type_or_fallback(key: str | None) -> IssueType:
    """The named type, or "other" for anything unknown."""
    types = issue_types()
    return types.get(key or "", types[FALLBACK_ISSUE_TYPE])
