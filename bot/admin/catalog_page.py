"""The catalog page of the console (/catalog): the shop's products as the bot reads them, for every agent.

Agents answer product questions too, so they see what the bot sees: each product with its picture, price
and sale price, sizes and colours with their stock, from the configured catalog (the demo catalog or the
shop's own product API, bot/catalog/backend.py), read live at each request in a worker thread. The page is
read-only: products are edited in the shop's own system. A catalog that does not answer gets a polite page,
never an error. Search finds a product as staff type it, with or without accents: by the words of its name,
kind, aliases or SKU, or as the bot would find it in a customer's message (bot/catalog/matching.py).
"""

import asyncio
import re
from functools import lru_cache
from pathlib import Path

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.catalog.backend import CatalogBackend
from bot.catalog.demo_catalog import IMAGE_PATH
from bot.catalog.matching import match_products
from bot.catalog.model import CatalogBackendError, Product
from bot.desk.accounts import Session
from bot.desk.console import agent_required, render
from bot.orders.model import format_vnd
from bot.paths import PROJECT_ROOT
from bot.text.lexicon import load_lexicon
from bot.text.normalize import strip_diacritics

catalog_page = Blueprint("desk_catalog")
# the demo catalog's pictures (the widget's own files, served to customers by the Rasa server)
PICTURES = PROJECT_ROOT / "widget" / "src" / "products"
PICTURE_NAME = re.compile(r"[a-z0-9-]{1,64}\.png")
MAX_QUERY = 100
MAX_ID = 64
CATALOG_DOWN = (
    "Hệ thống sản phẩm của shop đang tạm thời không phản hồi nên chưa xem được danh mục lúc này. "
    "Bạn tải lại trang sau ít phút nhé; trong lúc này, khách hỏi về sản phẩm sẽ được bot xin lỗi và mời gặp nhân viên."
)


@lru_cache(maxsize=4)
def _lexicon(directory: Path) -> dict[str, str]:
    return load_lexicon(directory)


def _folded_words(text: str) -> list[str]:
    return strip_diacritics(text).lower().split()


def search(products: list[Product], query: str, lexicon: dict[str, str]) -> list[Product]:
    """The products ``query`` finds, in catalog order: those where each word of the query begins a word of
    the name, kind, aliases or SKUs (accents ignored); when none, those the bot would name in these words
    (typos and teencode forgiven, bot/catalog/matching.py)."""
    wanted = _folded_words(query)
    if not wanted:
        return products

    def holds(product: Product) -> bool:
        names = [product.name, product.kind, *product.aliases, *(v.sku for v in product.variants)]
        text = _folded_words(" ".join(names))
        return all(any(word.startswith(w) for word in text) for w in wanted)

    return [product for product in products if holds(product)] or list(
        match_products(query, products, lexicon).products
    )


def picture_of(product: Product) -> str:
    """Where the console shows the picture from: the desk itself for the demo's pictures (the console's
    Content-Security-Policy loads images from the desk only); empty for a picture elsewhere (linked)."""
    name = product.image_url.removeprefix(IMAGE_PATH)
    demo = product.image_url.startswith(IMAGE_PATH) and PICTURE_NAME.fullmatch(name)
    return f"/catalog/pictures/{name}" if demo else ""


def linked_picture(product: Product) -> str:
    """A picture the shop's API keeps elsewhere, linked rather than shown (only a web address is linked)."""
    web = product.image_url.startswith(("https://", "http://"))
    return product.image_url if web and not picture_of(product) else ""


def _backend(request: Request) -> CatalogBackend:
    return request.app.ctx.catalog


def _helpers() -> dict:
    return {"picture_of": picture_of, "linked_picture": linked_picture, "vnd": format_vnd}


def _down(request: Request, session: Session) -> HTTPResponse:
    return render(request, "catalog.html", status=503, session=session, down=CATALOG_DOWN, products=[], query="",
                  total=0, **_helpers())  # fmt: skip


@catalog_page.get("/catalog")
@agent_required
async def list_page(request: Request, session: Session) -> HTTPResponse:
    query = (request.args.get("q") or "").strip()[:MAX_QUERY].rstrip()
    try:
        products = await asyncio.to_thread(_backend(request).products)
    except CatalogBackendError:
        return _down(request, session)
    lexicon = _lexicon(request.app.ctx.data_dir / "lexicon")
    return render(
        request, "catalog.html", session=session, products=search(products, query, lexicon), query=query,
        total=len(products), **_helpers(),
    )  # fmt: skip


@catalog_page.get("/catalog/<product_id:str>")
@agent_required
async def product_page(request: Request, session: Session, product_id: str) -> HTTPResponse:
    try:
        product = await asyncio.to_thread(_backend(request).get, product_id) if len(product_id) <= MAX_ID else None
    except CatalogBackendError:
        return _down(request, session)
    return render(request, "catalog_product.html", status=200 if product else 404, session=session, product=product,
                  **_helpers())  # fmt: skip


@catalog_page.get("/catalog/pictures/<name:str>")
@agent_required
async def picture(request: Request, session: Session, name: str) -> HTTPResponse:
    """A demo catalog picture, by a name that cannot leave the folder."""
    path = PICTURES / name
    if not PICTURE_NAME.fullmatch(name) or not path.is_file():
        return response.json({"error": "not found"}, status=404)
    return await response.file(path, mime_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
