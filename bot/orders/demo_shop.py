"""An embedded demo shop on SQLite, seeded on first use with realistic orders.

It lets a new user try order conversations without a shop system; a real shop
points ``ORDER_API_URL`` at its own API instead (``http_backend``).
"""

import json
import random
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.database import set_up_alone
from bot.orders.model import Order, OrderItem, OrderNotCancellableError, OrderStatus

metadata = sa.MetaData()
orders_table = sa.Table(
    "orders",
    metadata,
    sa.Column("number", sa.String(16), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("customer_name", sa.String(120), nullable=False),
    sa.Column("phone", sa.String(16), nullable=False),
    sa.Column("items", sa.Text, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("carrier", sa.String(40)),
    sa.Column("tracking_code", sa.String(40)),
    sa.Column("eta", sa.Date),
    sa.Column("address", sa.String(255), nullable=False),
    sa.Column("cancel_reason", sa.String(255)),
)

# Orders that the README and the tests can rely on.
WELL_KNOWN = {
    "DH123456": OrderStatus.SHIPPING,
    "DH654321": OrderStatus.PENDING,
    "DH222333": OrderStatus.PACKING,
    "DH777888": OrderStatus.DELIVERED,
    "DH999000": OrderStatus.CANCELLED,
    "DH246810": OrderStatus.RETURNED,
    "DH111222": OrderStatus.PENDING,
    "DH333444": OrderStatus.PACKING,
}
# Phones of orders the README, the tests and `rasa test` stories use.
FIXED_PHONES = {
    "DH123456": "0912345678",
    "DH111222": "0987654321",
    "DH333444": "0987654321",
    "DH777888": "0901234567",
}
_NAMES = [
    "Nguyễn Thị Lan", "Trần Văn Minh", "Lê Hoàng Anh", "Phạm Thu Hà", "Võ Quốc Bảo", "Đặng Mỹ Linh",
    "Bùi Đức Thắng", "Hồ Ngọc Trâm", "Huỳnh Gia Huy", "Ngô Thanh Tâm", "Dương Khánh Vy", "Lý Minh Khoa",
]  # fmt: skip
# the demo catalog's products at what a customer pays today (bot/catalog/demo_catalog.py, widget/src/demo.html)
_PRODUCTS = [
    ("Nồi chiên không dầu 5L", 1_290_000), ("Áo sơ mi linen trắng", 389_000), ("Bộ chăn ga cotton", 890_000),
    ("Ấm siêu tốc 1.7L", 329_000), ("Quần jean ống suông", 459_000), ("Đèn ngủ gỗ", 259_000),
    ("Máy xay sinh tố mini", 690_000), ("Gối tựa lưng", 199_000), ("Váy hoa nhí", 359_000),
    ("Bộ nồi inox 3 món", 1_150_000), ("Khăn tắm cotton", 129_000), ("Quạt đứng tiết kiệm điện", 890_000),
]  # fmt: skip
_STREETS = ["12 Nguyễn Trãi, Quận 1, TP.HCM", "45 Lê Lợi, Hải Châu, Đà Nẵng", "8 Kim Mã, Ba Đình, Hà Nội",
            "102 Trần Hưng Đạo, Ninh Kiều, Cần Thơ", "77 Phan Xích Long, Phú Nhuận, TP.HCM"]  # fmt: skip
_CARRIERS = ["GHN", "GHTK", "Viettel Post"]


def _seed_orders(today: date, count: int = 36) -> list[dict]:
    rng = random.Random(2026)
    statuses = list(OrderStatus)
    numbers = list(WELL_KNOWN)
    while len(numbers) < count:
        number = f"DH{rng.randint(100000, 999999)}"
        if number not in numbers:
            numbers.append(number)
    rows = []
    for index, number in enumerate(numbers):
        status = WELL_KNOWN.get(number, statuses[index % len(statuses)])
        items = [OrderItem(name, rng.randint(1, 2), price) for name, price in rng.sample(_PRODUCTS, rng.randint(1, 3))]
        shipped = status in (OrderStatus.SHIPPING, OrderStatus.DELIVERED, OrderStatus.RETURNED)
        carrier = rng.choice(_CARRIERS) if shipped else None
        rows.append(
            {
                "number": number,
                "status": status.value,
                "customer_name": _NAMES[index % len(_NAMES)],
                "phone": FIXED_PHONES.get(number) or "09" + f"{rng.randint(0, 99_999_999):08d}",
                "items": json.dumps([asdict(i) for i in items], ensure_ascii=False),
                "total": sum(i.quantity * i.unit_price for i in items),
                "carrier": carrier,
                "tracking_code": f"{carrier.replace(' ', '').upper()[:3]}{rng.randint(10**8, 10**9)}"
                if carrier
                else None,
                "eta": today + timedelta(days=rng.randint(1, 4)) if status != OrderStatus.CANCELLED else None,
                "address": rng.choice(_STREETS),
            }
        )
    return rows


def _to_order(row: sa.engine.Row) -> Order:
    return Order(
        number=row.number,
        status=OrderStatus(row.status),
        customer_name=row.customer_name,
        phone=row.phone,
        items=tuple(OrderItem(**item) for item in json.loads(row.items)),
        total=row.total,
        carrier=row.carrier,
        tracking_code=row.tracking_code,
        eta=row.eta,
        address=row.address,
    )


class DemoShop:
    """The demo shop's orders in one SQLite file."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)
        with engine.begin() as connection:
            if connection.execute(sa.select(sa.func.count()).select_from(orders_table)).scalar() == 0:
                connection.execute(orders_table.insert(), _seed_orders(date.today()))

    @classmethod
    def open(cls, path: Path) -> "DemoShop":
        with set_up_alone(path):  # every server opens it at start; one makes and seeds it
            return cls(sa.create_engine(f"sqlite:///{path}", future=True))

    def get(self, number: str) -> Order | None:
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(orders_table).where(orders_table.c.number == number)).first()
        return _to_order(row) if row else None

    def cancel(self, number: str, reason: str) -> Order:
        cancellable = [s.value for s in OrderStatus if s.cancellable]
        with self._engine.begin() as connection:
            # one conditional UPDATE: a concurrent status change cannot slip in between
            updated = connection.execute(
                orders_table.update()
                .where(orders_table.c.number == number, orders_table.c.status.in_(cancellable))
                .values(status=OrderStatus.CANCELLED.value, cancel_reason=reason[:255])
            ).rowcount
        order = self.get(number)
        if order is None:
            raise KeyError(number)
        if not updated:
            raise OrderNotCancellableError(order)
        return order

    def set_status(self, number: str, status: OrderStatus) -> Order:
        """What the shop's staff do in its own system (``cskh orders set-status``); KeyError for an unknown order."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                orders_table.update().where(orders_table.c.number == number).values(status=status.value)
            ).rowcount
        order = self.get(number)
        if not changed or order is None:
            raise KeyError(number)
        return order
