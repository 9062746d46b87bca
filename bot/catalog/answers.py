"""The bot's words about products, from the catalog as read now (never from training data).

Pure functions of products and the question, so every answer is tested without a server; the
action (actions/product_answers.py) reads the catalog, matches the product and sends these.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.catalog.matching import ProductMatch
from bot.catalog.model import Product, Variant
from bot.catalog.questions import COMPARE, OPTIONS, PRICE, RECOMMEND, STOCK, Question, mentions
from bot.orders.model import format_vnd

HUMAN_BUTTON = {"title": "Gặp nhân viên", "payload": "/request_human"}
LOW_STOCK = 3  # at most this many left: say how many


@dataclass(frozen=True)
class Answer:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    image: str = ""  # the picture of the one product answered about
    product: Product | None = None  # remembered for "còn màu khác không" in the next message


def choice_payload(product: Product) -> str:
    """The button that picks this product: the intent with the product's id as an entity."""
    return f'/product_question{{"product":"{product.id}"}}'


def _price(variants: Sequence[Variant]) -> str:
    paid = sorted({v.paid for v in variants})
    listed = sorted({v.price for v in variants})
    if len(paid) == 1 and len(listed) == 1:
        if variants[0].on_sale:
            off = round(100 * (listed[0] - paid[0]) / listed[0])
            return f"đang giảm còn {format_vnd(paid[0])} (giá gốc {format_vnd(listed[0])}, giảm {off}%)"
        return f"giá {format_vnd(paid[0])}"
    return f"giá từ {format_vnd(paid[0])} đến {format_vnd(paid[-1])}"


def _variant_label(variant: Variant) -> str:
    return ", ".join(part for part in (f"size {variant.size}" if variant.size else "", variant.colour) if part)


def _price_lines(product: Product) -> str:
    """One line per variant when their prices differ (a table's sizes), else nothing."""
    if len({(v.price, v.paid) for v in product.variants}) == 1:
        return ""
    lines = []
    for variant in product.variants:
        sale = f" (giá gốc {format_vnd(variant.price)})" if variant.on_sale else ""
        lines.append(f"• {_variant_label(variant)}: {format_vnd(variant.paid)}{sale}")
    return "\n" + "\n".join(lines)


def _stock(variants: Sequence[Variant]) -> str:
    left = sum(v.stock for v in variants)
    if left <= 0:
        return "hiện đang tạm hết hàng"
    return f"còn hàng (chỉ còn {left} sản phẩm)" if left <= LOW_STOCK else "còn hàng"


def _options(product: Product) -> str:
    parts = []
    if len(product.sizes) > 1:
        parts.append("size " + ", ".join(product.sizes))
    if product.colours and (len(product.colours) > 1 or product.sizes):
        parts.append("màu " + ", ".join(product.colours))
    if not parts:
        return ""
    sold_out = [_variant_label(v) for v in product.variants if v.stock <= 0 and _variant_label(v)]
    gone = f"; tạm hết: {'; '.join(sold_out)}" if sold_out and len(sold_out) < len(product.variants) else ""
    return f"{product.name} có {' và '.join(parts)}{gone}."


def _wanted(product: Product, question: Question) -> tuple[list[str], list[str]]:
    sizes = [s for s in product.sizes if mentions(question, s)]
    colours = [c for c in product.colours if mentions(question, c)]
    # "đen" is also in "đen nhám": the longest colour named wins
    if len(colours) > 1:
        colours = [max(colours, key=len)]
    return sizes, colours


def _about_one(product: Product, question: Question) -> str:
    sizes, colours = _wanted(product, question)
    if sizes or colours:
        return _about_variant(product, question, sizes, colours)
    asked = question.asks
    if not asked & {PRICE, STOCK, OPTIONS}:  # "có bán … không", or only the name: what there is to know
        overview = f"Dạ shop có {product.name} ạ: {_price(product.variants)}, {_stock(product.variants)}."
        return " ".join(filter(None, [overview, _options(product), product.description]))
    lines = []
    if PRICE in asked:
        lines.append(f"{product.name} {_price(product.variants)}.{_price_lines(product)}")
    if STOCK in asked:  # one asking whether it is in stock wants to buy: the price comes with a yes
        with_price = PRICE not in asked and any(v.stock > 0 for v in product.variants)
        price = f", {_price(product.variants)}" if with_price else ""
        lines.append(f"{product.name} {_stock(product.variants)}{price} ạ.")
    if OPTIONS in asked:
        lines.append(_options(product) or f"{product.name} chỉ có một loại ({_variant_label(product.variants[0])}).")
    return "\n".join(line for line in lines if line)


def _about_variant(product: Product, question: Question, sizes: list[str], colours: list[str]) -> str:
    chosen = [v for v in product.variants if (not sizes or v.size in sizes) and (not colours or v.colour in colours)]
    label = " ".join(
        filter(None, [f"size {'/'.join(sizes)}" if sizes else "", f"màu {'/'.join(colours)}" if colours else ""])
    )
    if not chosen:
        return f"{product.name} không có loại {label} ạ. {_options(product)}"
    left = sum(v.stock for v in chosen)
    price = f" Giá {_price(chosen).removeprefix('giá ')}." if PRICE in question.asks or left > 0 else ""
    if left > 0:
        return f"{product.name} {label} {_stock(chosen)} ạ.{price}"
    # sold out in one colour: the other colours of that size first (the size is what fits), then that colour
    in_stock = [v for v in product.variants if v.stock > 0]
    offer = [v for v in in_stock if sizes and v.size in sizes] or [
        v for v in in_stock if colours and v.colour in colours
    ]
    offer = (offer or in_stock)[:4]
    listed = "; ".join(_variant_label(v) for v in offer)
    rest = f" Hiện còn: {listed}." if offer else " Các loại khác cũng đang tạm hết."
    return f"{product.name} {label} hiện đang tạm hết hàng ạ.{rest}"


def _compare(first: Product, second: Product) -> str:
    lines = [f"So sánh {first.name} và {second.name}:"]
    for product in (first, second):
        lines.append(f"• {product.name}: {_price(product.variants)}, {_stock(product.variants)}. {product.description}")
    cheaper = min((first, second), key=lambda p: p.lowest_paid)
    dearer = second if cheaper is first else first
    if cheaper.lowest_paid < dearer.lowest_paid:
        difference = format_vnd(dearer.lowest_paid - cheaper.lowest_paid)
        lines.append(f"{cheaper.name} rẻ hơn {difference}.")
    return "\n".join(lines)


def _recommend(candidates: Sequence[Product], question: Question, catalog: Sequence[Product]) -> Answer:
    pool = list(candidates) or list(catalog)
    fits = [
        p for p in pool
        if p.in_stock and (question.budget is None or p.lowest_paid <= question.budget)
        and (question.people is None or p.serves is None or p.serves >= question.people)
    ]  # fmt: skip
    wants = []
    if question.people:
        wants.append(f"cho {question.people} người")
    if question.budget:
        wants.append(f"dưới {format_vnd(question.budget)}")
    need = " ".join(wants)
    if not candidates:
        return Answer(
            f"Bạn muốn tìm loại sản phẩm nào {need} ạ? Bạn cho mình biết tên món đồ (ví dụ nồi chiên, quạt, "
            'bàn gỗ…) để mình gợi ý đúng, hoặc bấm "Gặp nhân viên" để được tư vấn kỹ hơn nhé.',
            [HUMAN_BUTTON],
        )
    if not fits:
        nearest = min(pool, key=lambda p: p.lowest_paid)
        return Answer(
            f"Hiện shop chưa có mẫu nào {need} còn hàng ạ. Gần nhất là {nearest.name}, "
            f'{_price(nearest.variants)}, {_stock(nearest.variants)}. Bạn bấm "Gặp nhân viên" để được tư vấn thêm nhé.',
            [HUMAN_BUTTON],
            nearest.image_url,
            nearest,
        )
    # the smallest that is enough, then the cheapest: no one is sold more than they asked for
    fits.sort(key=lambda p: (p.serves or 0, p.lowest_paid))
    best = fits[0]
    lines = [f"Mình gợi ý {best.name}{(' ' + need) if need else ''}: {_price(best.variants)}, "
             f"{_stock(best.variants)}. {best.description}"]  # fmt: skip
    if len(fits) > 1:
        other = fits[1]
        lines.append(f"Bạn cũng có thể xem {other.name} ({_price(other.variants)}).")
    return Answer("\n".join(lines), [{"title": p.name, "payload": choice_payload(p)} for p in fits[1:3]],
                  best.image_url, best)  # fmt: skip


def answer(match: ProductMatch, question: Question, catalog: Sequence[Product]) -> Answer:
    """What to say about the products a message names (``match``) to its ``question``."""
    products = match.products
    if RECOMMEND in question.asks and (question.budget or question.people or not products or match.ambiguous):
        return _recommend(products, question, catalog)
    if not products:
        return Answer(
            "Mình chưa tìm thấy sản phẩm bạn hỏi trong danh mục của shop, nên mình không dám trả lời bừa ạ. "
            'Bạn gõ rõ tên sản phẩm giúp mình, hoặc bấm "Gặp nhân viên" để nhân viên kiểm tra giúp bạn nhé.',
            [HUMAN_BUTTON],
        )
    if len(products) == 2 and (COMPARE in question.asks or _both_named(products, question)):
        return Answer(_compare(*products), [{"title": p.name, "payload": choice_payload(p)} for p in products])
    if match.ambiguous:
        listed = ", ".join(p.name for p in products)
        return Answer(
            f"Shop có {len(products)} mẫu: {listed}. Bạn hỏi mẫu nào ạ?",
            [{"title": p.name, "payload": choice_payload(p)} for p in products],
        )
    product = products[0]
    return Answer(_about_one(product, question), [], product.image_url, product)


def _both_named(products: Sequence[Product], question: Question) -> bool:
    """Two products each named by what sets it apart ("5L với 3.5L"): the customer weighs them."""
    return " hay " in question.folded or " voi " in question.folded or " va " in question.folded


# --- a private reply to a comment under the shop's Facebook post -------------------------------------------

COMMENT_FOLLOW_UP = "Bạn muốn hỏi thêm hay đặt hàng thì cứ nhắn mình ngay tại đây nhé."
COMMENT_WHICH = "Bạn quan tâm mẫu nào thì nhắn mình ngay tại đây nhé."
MAX_IN_COMMENT_REPLY = 3  # more products than this: the reply invites the person to say which


def comment_answer(products: Sequence[Product], question: Question) -> str | None:
    """What the one private reply to a comment says of the products it is about (named in it, or sold by the
    post): price and stock together, as "giá bn ạ" and "còn ko" are the same question under a sales post, and
    what it asked of a size or colour. None when there is nothing to say, and the reply invites instead."""
    if not products or len(products) > MAX_IN_COMMENT_REPLY:
        return None
    if len(products) > 1:
        listed = "; ".join(f"{p.name} {_price(p.variants)}, {_stock(p.variants)}" for p in products)
        return f"Shop có {len(products)} mẫu: {listed}. {COMMENT_WHICH}"
    product = products[0]
    sizes, colours = _wanted(product, question)
    if sizes or colours:
        said = _about_variant(product, question, sizes, colours)
    else:
        said = f"{product.name} {_price(product.variants)}, {_stock(product.variants)}."
        if OPTIONS in question.asks and (options := _options(product)):
            said = f"{said} {options}"
    return f"{said} {COMMENT_FOLLOW_UP}"


def summary(product: Product) -> str:
    """Price and stock in a few words, for a card under the answer ("Giá 890.000đ · còn hàng")."""
    price = _price(product.variants)
    return f"{price[:1].upper()}{price[1:]} · {_stock(product.variants).removeprefix('hiện đang ')}"
