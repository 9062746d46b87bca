"""The conversations a Rasa server answered last, kept in memory between their turns.

Reading a conversation back from SQL and rebuilding it from its events on every message was about a
seventh of the Rasa server's CPU under load (docs/BENCHMARKS.md). The SQL tracker store
(bot/rasa_plugins/tracking.py) keeps the tracker it handed out and saved, and hands the same object
out again while it still is what the database holds. That is checked, not assumed: ``stamp`` is the
id of the conversation's newest stored event (ids only grow; events are never deleted), and the store
reads the events stored after it with one indexed query: none, usually; a turn another replica
answered, or events the desk appended through another replica, are applied to the kept tracker as
Rasa's ``retrieve`` would apply them (only a new session among them makes it read the conversation
again). A tracker a turn changed but did not save (the turn failed) has more events than were stored,
and is read again in full.

Only a tracker read by ``retrieve`` and saved by the same store is kept, never one that started a new
session in its turn (``retrieve`` reads the latest session only), and entries of another model's
domain are not used: a new model's slots apply from its first turn.
"""

from collections import OrderedDict
from dataclasses import dataclass

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker


@dataclass
class _Entry:
    tracker: DialogueStateTracker
    length: int  # how many of the tracker's events are stored
    stamp: int | None  # the id of the conversation's newest stored event
    domain: Domain


class RecentTrackers:
    """At most ``size`` trackers, the least recently used dropped first; ``size`` 0 keeps none."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _entry(self, tracker_or_sender: DialogueStateTracker | str, domain: Domain) -> _Entry | None:
        sender = tracker_or_sender if isinstance(tracker_or_sender, str) else tracker_or_sender.sender_id
        entry = self._entries.get(sender)
        if entry is None or entry.domain is not domain or entry.tracker.events.maxlen is not None:
            return None
        if not isinstance(tracker_or_sender, str) and entry.tracker is not tracker_or_sender:
            return None
        return entry

    def intact(self, sender_id: str, domain: Domain) -> tuple[DialogueStateTracker, int | None] | None:
        """The kept tracker and the stamp it was stored with, when no turn changed it since; the database
        may hold newer events (another replica's turns), which the store reads and applies."""
        entry = self._entry(sender_id, domain)
        if entry is None or len(entry.tracker.events) != entry.length:
            return None
        return entry.tracker, entry.stamp

    def stored(self, tracker: DialogueStateTracker, domain: Domain) -> tuple[int, int | None] | None:
        """How many of ``tracker``'s events are stored and the stamp they were stored with, when it is the kept
        one; else None (the store counts them in the database). Not checked against the database: a save
        follows its turn's ``retrieve``, which checked it, under the conversation's lock, which every writer
        holds (Rasa's turns and its HTTP API), as Rasa's own count-then-insert relies on."""
        entry = self._entry(tracker, domain)
        if entry is None or len(tracker.events) < entry.length:
            return None
        return entry.length, entry.stamp

    def keep(self, tracker: DialogueStateTracker, stamp: int | None, domain: Domain) -> None:
        """``tracker`` as stored now, with the conversation's newest event id ``stamp``."""
        if not self.size:
            return
        self._entries[tracker.sender_id] = _Entry(tracker, len(tracker.events), stamp, domain)
        self._entries.move_to_end(tracker.sender_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, sender_id: str) -> None:
        self._entries.pop(sender_id, None)
