"""A redelivered platform message is recognised, on SQLite and PostgreSQL, even by two processes."""

import threading

import pytest

from connectors.dedupe import SeenMessages
from tests.databases import KINDS, engine_on, project_database


@pytest.fixture(params=KINDS)
def engine(request, tmp_path):
    engine = engine_on(project_database(request, tmp_path, "channel_seen_messages"))
    yield engine
    engine.dispose()


def test_each_message_id_is_new_once_per_channel(engine) -> None:
    seen = SeenMessages(engine)
    assert seen.first_time("zalo", "msg-1")
    assert not seen.first_time("zalo", "msg-1")
    assert seen.first_time("messenger", "msg-1")


def test_two_replicas_racing_on_a_redelivery_answer_it_once(engine) -> None:
    replicas = [SeenMessages(engine), SeenMessages(engine)]
    for number in range(10):
        start, results = threading.Barrier(2), []

        def receive(store: SeenMessages, message_id: str, start: threading.Barrier, results: list) -> None:
            start.wait()
            results.append(store.first_time("zalo", message_id))

        threads = [threading.Thread(target=receive, args=(r, f"m-{number}", start, results)) for r in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [False, True]
