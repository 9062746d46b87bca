"""Questions the bot could not answer, grouped so an admin sees each need once, with its count.

Messages that ended in the fallback are compared by TF-IDF over character
n-grams without diacritics (scikit-learn, which Rasa already installs), so
"có gói quà ko", "co goi qua khong" and "shop gói quà được không" land in one
group; groups are formed greedily around the most frequent wording.
"""

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from bot.admin.analytics import day_bounds
from bot.text.normalize import strip_diacritics

SIMILAR = 0.35
# Chat filler that says nothing about the need ("shop ơi cho mình hỏi ... không ạ"), without diacritics.
FILLER = frozenset({
    "shop", "ad", "admin", "oi", "a", "ah", "cho", "minh", "em", "toi", "hoi", "co", "khong", "ko", "k",
    "dc", "duoc", "vay", "va", "nhe", "nha", "nhi", "the", "la", "thi", "voi", "ban", "gi", "sao", "ne",
})  # fmt: skip


@dataclass
class Group:
    texts: list[str]  # distinct wordings, most frequent first
    count: int  # messages in the group


def _key(text: str) -> str:
    words = strip_diacritics(text).lower().replace("?", " ").replace(",", " ").split()
    return " ".join(w for w in words if w not in FILLER) or " ".join(words)


def group_similar(messages: list[str], threshold: float = SIMILAR) -> list[Group]:
    """Groups of similar messages, largest first."""
    counts = Counter(m.strip() for m in messages if m.strip() and not m.strip().startswith("/"))
    wordings = [text for text, _ in counts.most_common()]
    if not wordings:
        return []
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4)).fit_transform([_key(t) for t in wordings])
    similarity = cosine_similarity(vectors)
    taken: set[int] = set()
    groups = []
    for index in range(len(wordings)):
        if index in taken:
            continue
        members = [j for j in range(len(wordings)) if j not in taken and similarity[index, j] >= threshold]
        taken.update(members)
        groups.append(Group([wordings[j] for j in members], sum(counts[wordings[j]] for j in members)))
    return sorted(groups, key=lambda group: -group.count)


def unanswered(trackers: sa.engine.Engine, start: date, end: date) -> list[Group]:
    """The fallback messages of ``start``..``end`` (shop time), grouped."""
    since, until = day_bounds(start, end)
    events = sa.table("events", sa.column("type_name"), sa.column("timestamp"), sa.column("intent_name"),
                      sa.column("data"))  # fmt: skip
    with trackers.connect() as connection:
        rows = connection.execute(
            sa.select(events.c.data).where(
                events.c.type_name == "user",
                events.c.intent_name == "nlu_fallback",
                events.c.timestamp >= since.timestamp(),
                events.c.timestamp < until.timestamp(),
            )
        ).all()
    return group_similar([json.loads(row.data or "{}").get("text") or "" for row in rows])
