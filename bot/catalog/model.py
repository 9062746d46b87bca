"""What the bot knows about a product, whatever system it comes from."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One buyable form of a product: its size and colour (either may be empty), price and stock."""

    sku: str
    price: int  # VND, the list price
    stock: int
    size: str = ""
    colour: str = ""
    sale_price: int | None = None  # VND, when on sale

    @property
    def paid(self) -> int:
        """What the customer pays today."""
        return self.sale_price if self.sale_price is not None and self.sale_price < self.price else self.price

    @property
    def on_sale(self) -> bool:
        return self.paid < self.price


@dataclass(frozen=True)
class Product:
    """A product as customers ask about it.

    ``kind`` is what customers call the thing ("nồi chiên", "áo thun"); ``aliases`` are other names for the
    same kind ("nồi chiên không dầu", "air fryer"): a message naming the kind names every product of that
    kind, and the rest of the name ("5L", "3.5L") tells them apart. ``serves`` is how many people it suits,
    where that is how such things are chosen (a pot, an air fryer, a table).
    """

    id: str
    name: str
    kind: str
    variants: tuple[Variant, ...]
    description: str = ""
    image_url: str = ""
    aliases: tuple[str, ...] = ()
    serves: int | None = None

    @property
    def in_stock(self) -> bool:
        return any(v.stock > 0 for v in self.variants)

    @property
    def sizes(self) -> list[str]:
        return _distinct(v.size for v in self.variants)

    @property
    def colours(self) -> list[str]:
        return _distinct(v.colour for v in self.variants)

    @property
    def lowest_paid(self) -> int:
        return min(v.paid for v in self.variants)


def _distinct(values) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


class CatalogBackendError(RuntimeError):
    """The catalog could not answer (down, slow, or a malformed reply)."""
