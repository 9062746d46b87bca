"""The shop's order system failing under a live conversation: an apology and a ticket, no crash.

The action server talks to a fake of the shop's order API (a real loopback HTTP
server following docs/ORDER_API.md) that answers 500 or hangs past the timeout.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.sandbox import RestCustomer, stack_in
from bot.settings import Settings
from tests.fakes.order_api import FakeOrderApi

pytestmark = pytest.mark.slow  # starts the bot's servers or loads the trained model


@pytest.fixture(scope="module")
def order_api() -> Iterator[FakeOrderApi]:
    with FakeOrderApi({}) as api:
        yield api


@pytest.fixture(scope="module")
def stack_with_shop_api(order_api, trained_model: Path, tmp_path_factory) -> Iterator[Settings]:
    workdir = tmp_path_factory.mktemp("shop-api")
    with stack_in(workdir, trained_model, order_api_url=order_api.url, order_api_timeout=1.0) as settings:
        yield settings


def stored_ticket(settings: Settings, code: str) -> dict:
    engine = sa.create_engine(f"sqlite:///{Path(settings.tracker_db).parent / 'cskh.db'}", future=True)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT * FROM tickets WHERE code = :c"), {"c": code}).first()
    engine.dispose()
    return dict(row._mapping)


@pytest.mark.parametrize("failure", ["errors", "hangs"])
def test_order_system_failure_is_an_apology_and_a_kept_request(stack_with_shop_api, order_api, failure) -> None:
    order_api.fail_next, order_api.hang_seconds = (100, 0) if failure == "errors" else (0, 3)
    try:
        reply = RestCustomer(stack_with_shop_api.rasa_url).says("kiểm tra đơn DH123456 giúp mình")
    finally:
        order_api.fail_next, order_api.hang_seconds = 0, 0
    assert "Xin lỗi" in reply and "gián đoạn" in reply
    code = re.search(r"TK-\d{8}-\d{4}", reply).group()
    assert stored_ticket(stack_with_shop_api, code)["order_number"] == "DH123456"
