"""Questions the bot could not answer, grouped so an admin sees each need once, with its count.

Messages that ended in the fallback are compared by TF-IDF over character
n-grams without diacritics (scikit-learn, which Rasa already installs), so
"có gói quà ko", "co goi qua khong" and "shop gói quà được không" land in one
group. Each wording joins the first group (most frequent first) whose leading
wording it resembles, or leads a new group.

What admins see is customers' own words, so:
- answers to a form's question (order code, phone, the last digits that prove
  ownership) are never listed: a message sent while one of Rasa's forms was
  active is a form answer;
- phones, e-mails, order codes and long numbers are masked (``mask_personal``)
  before counting, so "đơn DH123456 sao chưa giao" and "đơn DH654321 ..." also
  count as one wording.

Grouping takes bounded time and memory however many messages the range holds
(50,000 distinct: about 1 s and 80 MB, ``make bench-unanswered``): wordings are
compared only with group leaders, block by block (sparse matrices, never all
pairs); at most ``MAX_WORDINGS`` distinct wordings are grouped (the most
frequent) and at most ``MAX_GROUPS`` groups formed; what is left is counted in
``Unanswered.ungrouped``. Events are streamed from the database, never all loaded.
"""

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import sqlalchemy as sa
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.admin.analytics import day_bounds
from bot.privacy import mask_personal

SIMILAR = 0.35
MAX_WORDINGS = 50_000
MAX_GROUPS = 500  # five times what the console shows; each group costs a comparison per wording
BLOCK = 512
# A form still active from before the range started: Rasa starts a new session (closing it) after 60 minutes.
FORM_LOOKBACK = timedelta(days=1)
_MARKS = re.compile(r"[\u0300-\u036f]")  # the combining marks Vietnamese letters decompose into
# Chat filler that says nothing about the need ("shop ơi cho mình hỏi ... không ạ"), without diacritics.
FILLER = frozenset({
    "shop", "ad", "admin", "oi", "a", "ah", "cho", "minh", "em", "toi", "hoi", "co", "khong", "ko", "k",
    "dc", "duoc", "vay", "va", "nhe", "nha", "nhi", "the", "la", "thi", "voi", "ban", "gi", "sao", "ne",
})  # fmt: skip


@dataclass
class Group:
    texts: list[str]  # distinct wordings, most frequent first
    count: int  # messages in the group


@dataclass
class Unanswered:
    """The groups, largest first, and how many messages were too many to group."""

    groups: list[Group] = field(default_factory=list)
    ungrouped: int = 0


def _fold(text: str) -> str:
    """``strip_diacritics`` and lower case, with one regex instead of a loop per character (50,000 messages)."""
    return _MARKS.sub("", unicodedata.normalize("NFD", text)).replace("đ", "d").replace("Đ", "D").lower()


def _key(text: str) -> str:
    words = _fold(text).replace("?", " ").replace(",", " ").split()
    return " ".join(w for w in words if w not in FILLER) or " ".join(words)


@lru_cache(maxsize=100_000)
def _word_ngrams(word: str) -> tuple[str, ...]:
    """The character 2-4-grams of one word padded with spaces, exactly as scikit-learn's "char_wb" analyzer
    makes them (a word shorter than n counted once, whole)."""
    padded = f" {word} "
    grams: list[str] = []
    for n in range(2, 5):
        if len(padded) <= n:
            grams.append(padded)
            break
        grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return tuple(grams)


def _char_ngrams(key: str) -> list[str]:
    """scikit-learn's "char_wb" 2-4-grams of a key, each word's made once: customers' words repeat from message
    to message, and making the n-grams again for each of 50,000 messages was half of the grouping's time."""
    grams: list[str] = []
    for word in key.split():
        grams += _word_ngrams(word)
    return grams


def _leaders(vectors, threshold: float, max_groups: int) -> np.ndarray:
    """For each row, the row leading its group (-1: none, the group limit was reached).

    Row i joins the first earlier leader with cosine >= ``threshold``, else leads a new group:
    rows are taken ``BLOCK`` at a time against the leaders so far (one sparse product), then
    the still-unplaced rows of the block against each other.
    """
    leader_of = np.full(vectors.shape[0], -1)
    leaders: list[int] = []
    leader_columns, columns_of = None, 0  # the leaders' vectors as columns, rebuilt only when a leader was added
    for start in range(0, vectors.shape[0], BLOCK):
        block = vectors[start : start + BLOCK]
        placed = np.full(block.shape[0], -1)
        if leaders:
            if columns_of != len(leaders):
                leader_columns, columns_of = vectors[leaders].T.tocsr(), len(leaders)
            similar = (block @ leader_columns).toarray() >= threshold
            found = similar.any(axis=1)
            placed[found] = np.asarray(leaders)[similar.argmax(axis=1)[found]]
        rest = np.flatnonzero(placed < 0)
        if len(rest) and len(leaders) < max_groups:
            within = (block[rest] @ block[rest].T).toarray() >= threshold
            free = np.ones(len(rest), dtype=bool)
            for i in range(len(rest)):
                if not free[i]:
                    continue
                if len(leaders) >= max_groups:
                    break
                leaders.append(start + rest[i])
                members = free & within[i]
                members[i] = True
                placed[rest[members]] = start + rest[i]
                free &= ~members
        leader_of[start : start + block.shape[0]] = placed
    return leader_of


def group_messages(
    messages: Iterable[str], threshold: float = SIMILAR, max_groups: int = MAX_GROUPS, max_wordings: int = MAX_WORDINGS
) -> Unanswered:
    """Groups of similar messages, largest first (masked; commands like "/greet" dropped)."""
    counts = Counter(mask_personal(m.strip()) for m in messages if m.strip() and not m.strip().startswith("/"))
    ranked = counts.most_common()
    wordings = [text for text, _ in ranked[:max_wordings]]
    ungrouped = sum(n for _, n in ranked[max_wordings:])
    if not wordings:
        return Unanswered(ungrouped=ungrouped)
    by_key: dict[str, list[str]] = {}  # wordings that differ only in diacritics or filler compare once
    for text in wordings:
        by_key.setdefault(_key(text), []).append(text)
    keys = list(by_key)
    vectors = TfidfVectorizer(analyzer=_char_ngrams, dtype=np.float32).fit_transform(keys)
    leader_of = _leaders(vectors, threshold, max_groups)
    members: dict[int, list[str]] = {}
    for index, leader in enumerate(leader_of):
        if leader < 0:
            ungrouped += sum(counts[text] for text in by_key[keys[index]])
        else:
            members.setdefault(int(leader), []).extend(by_key[keys[index]])
    groups = [
        Group(sorted(texts, key=lambda text: -counts[text]), sum(counts[text] for text in texts))
        for texts in members.values()
    ]
    return Unanswered(sorted(groups, key=lambda group: -group.count), ungrouped)


def group_similar(messages: list[str], threshold: float = SIMILAR) -> list[Group]:
    """Groups of similar messages, largest first."""
    return group_messages(messages, threshold).groups


def fallback_messages(trackers: sa.engine.Engine, start: date, end: date) -> Iterator[str]:
    """What customers wrote in ``start``..``end`` (shop time) that ended in the fallback, form answers left out.

    Rasa's ``events`` table is read in each conversation's order: an ``active_loop`` event with
    a name means a form is asking (Rasa's ``requested_slot`` is then set), one without a name,
    a new session or a restart means it stopped.
    """
    since, until = day_bounds(start, end)
    events = sa.table("events", sa.column("id"), sa.column("sender_id"), sa.column("type_name"),
                      sa.column("timestamp"), sa.column("intent_name"), sa.column("action_name"),
                      sa.column("data"))  # fmt: skip
    query = (
        sa.select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.action_name, events.c.data)
        .where(
            events.c.timestamp >= (since - FORM_LOOKBACK).timestamp(),
            events.c.timestamp < until.timestamp(),
            sa.or_(
                sa.and_(events.c.type_name == "user", events.c.intent_name == "nlu_fallback"),
                events.c.type_name.in_(("active_loop", "session_started", "restart")),
            ),
        )
        .order_by(events.c.sender_id, events.c.id)
    )
    sender, form_active = None, False
    with trackers.connect() as connection:
        for row in connection.execution_options(stream_results=True).execute(query):
            if row.sender_id != sender:
                sender, form_active = row.sender_id, False
            if row.type_name == "active_loop":
                form_active = bool(row.action_name)
            elif row.type_name != "user":
                form_active = False
            elif not form_active and row.timestamp >= since.timestamp():
                yield json.loads(row.data or "{}").get("text") or ""


def unanswered(trackers: sa.engine.Engine, start: date, end: date) -> Unanswered:
    """The fallback messages of ``start``..``end`` (shop time), grouped and masked."""
    return group_messages(fallback_messages(trackers, start, end))
