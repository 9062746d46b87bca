"""What the bot knows about an order, whatever system it comes from."""

from dataclasses import dataclass
from datetime import date
from enum import Enum


class OrderStatus(str, Enum):
    """Order life cycle; values are the wire format of the order API."""

    PENDING = "pending"
    PACKING = "packing"
    SHIPPING = "shipping"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        """How the status is said to a customer."""
        return _LABELS[self]

    @property
    def cancellable(self) -> bool:
        """Only orders not yet handed to the carrier can be cancelled."""
        return self in (OrderStatus.PENDING, OrderStatus.PACKING)


_LABELS = {
    OrderStatus.PENDING: "chờ xác nhận",
    OrderStatus.PACKING: "đang đóng gói",
    OrderStatus.SHIPPING: "đang giao",
    OrderStatus.DELIVERED: "đã giao",
    OrderStatus.CANCELLED: "đã huỷ",
    OrderStatus.RETURNED: "hoàn trả",
}


@dataclass(frozen=True)
class OrderItem:
    name: str
    quantity: int
    unit_price: int  # VND


@dataclass(frozen=True)
class Order:
    number: str
    status: OrderStatus
    customer_name: str
    phone: str
    items: tuple[OrderItem, ...]
    total: int  # VND
    carrier: str | None = None
    tracking_code: str | None = None
    eta: date | None = None
    address: str = ""

    def phone_matches(self, answer: str, *, last_digits_ok: bool = True) -> bool:
        """Ownership check: the full phone on the order in any written form ("+84 912 345 678"),
        or its last 4 digits where ``last_digits_ok``."""
        digits = "".join(c for c in answer if c.isdigit())
        if digits.startswith("84") and len(digits) == 11:
            digits = "0" + digits[2:]
        return bool(digits) and (
            digits == self.phone or (last_digits_ok and len(digits) == 4 and self.phone.endswith(digits))
        )


class OrderBackendError(RuntimeError):
    """The order system could not answer (down, slow, or a malformed reply)."""


class OrderNotCancellableError(RuntimeError):
    """The order's status no longer allows a cancellation."""

    def __init__(self, order: Order) -> None:
        super().__init__(f"{order.number} is {order.status.value}")
        self.order = order


def format_vnd(amount: int) -> str:
    """12345000 -> "12.345.000đ", as Vietnamese shops write prices."""
    return f"{amount:,}".replace(",", ".") + "đ"
