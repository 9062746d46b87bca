"""Both order backends behind one interface; the HTTP adapter against a real local server."""

import time

import pytest

from bot.orders.demo_shop import WELL_KNOWN, DemoShop
from bot.orders.http_backend import HttpOrderBackend
from bot.orders.model import OrderBackendError, OrderNotCancellableError, OrderStatus, format_vnd
from tests.fakes.order_api import FakeOrderApi


def api_order(number: str, status: str = "shipping") -> dict:
    return {
        "number": number, "status": status, "customer_name": "Trần Văn Minh", "phone": "0987654321",
        "items": [{"name": "Ấm siêu tốc 1.7L", "quantity": 2, "unit_price": 329000}], "total": 658000,
        "carrier": "GHN", "tracking_code": "GHN123", "eta": "2026-12-01", "address": "8 Kim Mã, Hà Nội",
    }  # fmt: skip


@pytest.fixture
def shop(tmp_path) -> DemoShop:
    return DemoShop.open(tmp_path / "shop.db")


def test_demo_shop_is_seeded_with_every_status(shop) -> None:
    orders = [shop.get(number) for number in WELL_KNOWN]
    assert {o.status for o in orders} == set(OrderStatus)
    assert all(o.items and o.total == sum(i.quantity * i.unit_price for i in o.items) for o in orders)


def test_demo_shop_seed_survives_reopening(tmp_path) -> None:
    DemoShop.open(tmp_path / "shop.db").cancel("DH654321", "đổi ý")
    assert DemoShop.open(tmp_path / "shop.db").get("DH654321").status is OrderStatus.CANCELLED


def test_demo_shop_cancels_only_pending_or_packing(shop) -> None:
    assert shop.cancel("DH222333", "đặt nhầm").status is OrderStatus.CANCELLED
    with pytest.raises(OrderNotCancellableError) as refused:
        shop.cancel("DH123456", "đổi ý")
    assert refused.value.order.status is OrderStatus.SHIPPING
    assert shop.get("DH000000") is None


def test_phone_ownership_accepts_full_number_or_last_four(shop) -> None:
    order = shop.get("DH123456")
    assert order.phone_matches("0912345678") and order.phone_matches("5678")
    assert not order.phone_matches("1234") and not order.phone_matches("")


def test_http_backend_reads_an_order_with_the_token() -> None:
    with FakeOrderApi({"DH111111": api_order("DH111111")}, token="s3cret") as api:
        order = HttpOrderBackend(api.url, token="s3cret").get("DH111111")
    assert (order.status, order.carrier, order.total) == (OrderStatus.SHIPPING, "GHN", 658000)
    assert format_vnd(order.total) == "658.000đ"


def test_http_backend_unknown_order_is_none() -> None:
    with FakeOrderApi({}) as api:
        assert HttpOrderBackend(api.url).get("DH000001") is None


def test_http_backend_retries_a_500_once_then_succeeds() -> None:
    with FakeOrderApi({"DH111111": api_order("DH111111")}) as api:
        api.fail_next = 1
        assert HttpOrderBackend(api.url).get("DH111111").number == "DH111111"
        assert len(api.requests) == 2


def test_http_backend_persistent_500_is_a_clear_error() -> None:
    with FakeOrderApi({"DH111111": api_order("DH111111")}) as api:
        api.fail_next = 10
        with pytest.raises(OrderBackendError, match="500"):
            HttpOrderBackend(api.url).get("DH111111")


def test_http_backend_gives_up_on_a_hanging_server() -> None:
    with FakeOrderApi({"DH111111": api_order("DH111111")}) as api:
        api.hang_seconds = 3
        started = time.monotonic()
        with pytest.raises(OrderBackendError, match="unreachable"):
            HttpOrderBackend(api.url, timeout=0.5).get("DH111111")
        assert time.monotonic() - started < 2.5


def test_http_backend_dead_server_is_a_clear_error() -> None:
    with FakeOrderApi({}) as api:
        url = api.url
    with pytest.raises(OrderBackendError, match="unreachable"):
        HttpOrderBackend(url, timeout=0.5).get("DH111111")


def test_http_backend_cancel_is_never_retried_and_409_explains_why() -> None:
    with FakeOrderApi({}) as api:
        backend = HttpOrderBackend(api.url)
        api.orders = {"DH111111": api_order("DH111111", "pending"), "DH222222": api_order("DH222222")}
        assert backend.cancel("DH111111", "đổi ý").status is OrderStatus.CANCELLED
        with pytest.raises(OrderNotCancellableError):
            backend.cancel("DH222222", "đổi ý")
        api.fail_next = 1
        with pytest.raises(OrderBackendError):
            backend.cancel("DH111111", "again")
        assert [m for m, _ in api.requests].count("POST") == 3


def test_http_backend_malformed_payload_is_a_clear_error() -> None:
    broken = {"DH111111": {"number": "DH111111", "status": "teleported"}}
    with FakeOrderApi(broken) as api, pytest.raises(OrderBackendError, match="malformed"):
        HttpOrderBackend(api.url).get("DH111111")
