"""The ownership ledger on SQLite and PostgreSQL: proofs bound to one order, failures counted per order."""

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.ownership import Outcome, OwnershipLedger, ProofMethod

POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path) -> Iterator[sa.engine.Engine]:
    if request.param == "sqlite":
        yield sa.create_engine(f"sqlite:///{tmp_path / 'cskh.db'}", future=True, connect_args={"timeout": 15})
        return
    admin = sa.create_engine(POSTGRES, future=True, isolation_level="AUTOCOMMIT")
    name = "ownership_" + uuid.uuid4().hex[:8]
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    engine = sa.create_engine(POSTGRES.rsplit("/", 1)[0] + "/" + name, future=True)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE {name}"))


def test_a_proof_binds_one_conversation_to_one_order(engine) -> None:
    ledger = OwnershipLedger(engine)
    assert ledger.attempt("web:a", "DH111222", True, ProofMethod.LAST_DIGITS) is Outcome.PROVEN
    assert ledger.proven("web:a", "DH111222", full_phone=False)
    assert not ledger.proven("web:a", "DH111222", full_phone=True)  # last digits never allow a change
    assert not ledger.proven("web:a", "DH654321", full_phone=False)  # another order
    assert not ledger.proven("web:b", "DH111222", full_phone=False)  # another conversation
    assert ledger.attempt("web:a", "DH111222", True, ProofMethod.FULL_PHONE) is Outcome.PROVEN
    assert ledger.proven("web:a", "DH111222", full_phone=True)


def test_proofs_expire(engine) -> None:
    ledger = OwnershipLedger(engine, proof_lifetime=timedelta(seconds=-1))
    ledger.attempt("web:a", "DH111222", True, ProofMethod.FULL_PHONE)
    assert not ledger.proven("web:a", "DH111222", full_phone=False)


def test_twenty_concurrent_guesses_from_different_senders_get_exactly_five_tries(engine) -> None:
    ledger = OwnershipLedger(engine)
    start = threading.Barrier(20)
    outcomes: list[Outcome] = []

    def guess(i: int) -> None:
        start.wait()
        outcomes.append(ledger.attempt(f"zalo:{i}", "DH123456", False, ProofMethod.LAST_DIGITS))

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Counter(outcomes) == {Outcome.WRONG: 5, Outcome.LOCKED: 15}
    assert ledger.is_locked("DH123456")
    # the right answer is refused too while locked: it tells a guesser nothing
    assert ledger.attempt("zalo:owner", "DH123456", True, ProofMethod.FULL_PHONE) is Outcome.LOCKED
    assert not ledger.is_locked("DH654321")


def test_failures_outside_the_window_no_longer_count(engine) -> None:
    ledger = OwnershipLedger(engine, window=timedelta(seconds=-1))  # every earlier failure is already old
    for i in range(10):
        assert ledger.attempt(f"web:{i}", "DH123456", False, ProofMethod.LAST_DIGITS) is Outcome.WRONG
    assert ledger.attempt("web:owner", "DH123456", True, ProofMethod.FULL_PHONE) is Outcome.PROVEN
