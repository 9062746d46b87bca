"""The catalog: both backends behind one interface (the HTTP adapter against a real local server),
product matching as customers write names, and the answers' facts."""

import multiprocessing
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.catalog.answers import answer
from bot.catalog.backend import catalog_backend_for
from bot.catalog.demo_catalog import SEED, DemoCatalog
from bot.catalog.http_backend import HttpCatalogBackend
from bot.catalog.matching import match_products, words
from bot.catalog.model import CatalogBackendError
from bot.catalog.questions import read_question
from bot.orders.demo_shop import _PRODUCTS, DemoShop
from bot.orders.model import format_vnd
from bot.paths import PROJECT_ROOT
from bot.settings import Settings
from bot.text.lexicon import load_lexicon
from tests.fakes.product_api import FakeProductApi

LEXICON = load_lexicon()


def api_product(product_id: str = "noi-chien-5l") -> dict:
    return {
        "id": product_id, "name": "Nồi chiên không dầu 5L", "kind": "nồi chiên", "aliases": ["air fryer"],
        "description": "Lòng nồi 5 lít.", "image_url": "https://shop.example/noi.png", "serves": 5,
        "variants": [
            {"sku": "NC5-DEN", "size": "", "colour": "đen", "price": 1490000, "sale_price": 1290000, "stock": 9},
            {"sku": "NC5-TRANG", "size": "", "colour": "trắng", "price": 1490000, "sale_price": None, "stock": 0},
        ],
    }  # fmt: skip


def named(text: str) -> list[str]:
    return [p.id for p in match_products(text, SEED, LEXICON).products]


# --- the demo catalog ---------------------------------------------------------------------------


def test_the_demo_page_products_are_in_the_catalog_at_the_page_prices() -> None:
    page = (PROJECT_ROOT / "widget" / "src" / "demo.html").read_text(encoding="utf-8")
    catalog = {p.name: p for p in DemoCatalog.open_memory().products()}
    for name in ["Nồi chiên không dầu 5L", "Bộ chén sứ 12 món", "Quạt đứng tiết kiệm điện", "Kệ gỗ 4 tầng"]:
        price = format_vnd(catalog[name].lowest_paid)
        assert f'<h2>{name}</h2><p class="price">{price}</p>' in page


def test_the_demo_orders_products_cost_what_the_catalog_says() -> None:
    catalog = {p.name: p.lowest_paid for p in SEED}
    assert {name: catalog.get(name) for name, _ in _PRODUCTS} == dict(_PRODUCTS)


def test_every_product_has_its_picture_served_by_the_widget() -> None:
    for product in SEED:
        name = product.image_url.removeprefix("/webhooks/socketio/products/")
        assert (PROJECT_ROOT / "widget" / "src" / "products" / name).stat().st_size > 0


def test_stock_is_read_live_from_the_demo_catalog(tmp_path) -> None:
    catalog = DemoCatalog.open(tmp_path / "catalog.db")
    DemoCatalog.open(tmp_path / "catalog.db").set_stock("DNG-0", 4)  # another process sells or restocks
    assert catalog.get("den-ngu-go").in_stock
    assert catalog.get("khong-co") is None


def test_the_settings_choose_the_backend(tmp_path) -> None:
    assert isinstance(catalog_backend_for(Settings.under(tmp_path)), DemoCatalog)
    chosen = catalog_backend_for(Settings.under(tmp_path, catalog_api_url="http://127.0.0.1:9/api"))
    assert isinstance(chosen, HttpCatalogBackend)


# --- the shop's product API ---------------------------------------------------------------------


def test_http_backend_reads_products_with_the_token() -> None:
    with FakeProductApi([api_product()], token="s3cret") as api:
        backend = HttpCatalogBackend(api.url, token="s3cret")
        [product] = backend.products()
        assert product.name == "Nồi chiên không dầu 5L" and product.lowest_paid == 1_290_000
        assert [v.colour for v in product.variants if v.stock == 0] == ["trắng"]
        assert backend.get("noi-chien-5l") == product
        assert backend.get("khong-co") is None
        with pytest.raises(CatalogBackendError):
            HttpCatalogBackend(api.url, token="wrong").products()


def test_http_backend_retries_one_server_error() -> None:
    with FakeProductApi([api_product()]) as api:
        api.fail_next = 1
        assert len(HttpCatalogBackend(api.url).products()) == 1
        api.fail_next = 2
        with pytest.raises(CatalogBackendError):
            HttpCatalogBackend(api.url).products()


def test_http_backend_gives_up_after_its_timeout() -> None:
    with FakeProductApi([api_product()]) as api:
        api.hang_seconds = 2.0
        started = time.monotonic()
        with pytest.raises(CatalogBackendError):
            HttpCatalogBackend(api.url, timeout=0.5).products()
        assert time.monotonic() - started < 1.8


def test_http_backend_refuses_malformed_answers() -> None:
    broken = api_product()
    broken["variants"] = []
    with FakeProductApi([broken]) as api:
        with pytest.raises(CatalogBackendError):
            HttpCatalogBackend(api.url).products()
        api.garbage = True
        with pytest.raises(CatalogBackendError):
            HttpCatalogBackend(api.url).get("noi-chien-5l")


def test_http_backend_unreachable_is_a_backend_error() -> None:
    with pytest.raises(CatalogBackendError):
        HttpCatalogBackend("http://127.0.0.1:9", timeout=0.5).products()


# --- matching -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nồi chiên không dầu 5L", ["noi-chien-5l"]),
        ("noi chien khong dau 5l", ["noi-chien-5l"]),  # without diacritics
        ("nồi chiên ko dầu 5 lít", ["noi-chien-5l"]),  # teencode, the unit written out
        ("noi chein 3,5 lit", ["noi-chien-3-5l"]),  # a typo, a decimal comma
        ("NOICHIEN 5L", ["noi-chien-5l"]),  # no space, upper case
        ("nồi chiên", ["noi-chien-5l", "noi-chien-3-5l"]),  # part of the name: both, ask which
        ("áo phông size M", ["ao-thun-cotton"]),  # an alias
        ("quạt đứng tiết kiệm điện", ["quat-dung"]),
        ("ghế gaming", []),  # not sold here
    ],
)
def test_products_are_found_as_customers_write_them(text: str, expected: list[str]) -> None:
    assert named(text) == expected


def test_diacritics_written_are_respected() -> None:
    assert named("shop có bán gối tựa không") == ["goi-tua-lung"]
    assert named("bán gói quà giúp mình") == []  # "gói" is not "gối", "bán" is not "bàn"
    assert named("còn hàng không vậy") == []  # "vậy" is not "váy"


def test_quantities_are_normalized_into_one_word() -> None:
    assert words("nồi 5 lít với 3,5L", LEXICON)[-3:] == ["5l", "với", "3.5l"]


# --- answers ---------------------------------------------------------------------------------------


def ask(text: str, catalog=SEED) -> str:
    return answer(match_products(text, catalog, LEXICON), read_question(words(text, LEXICON)), catalog).text


def test_a_sale_price_is_shown_against_the_old_one() -> None:
    said = ask("giá nồi chiên 5L")
    assert "1.290.000đ" in said and "giá gốc 1.490.000đ" in said


def test_a_sold_out_variant_is_said_with_what_is_left() -> None:
    said = ask("áo thun size M màu đen còn không")
    assert "tạm hết hàng" in said and "size M, trắng" in said


def test_a_budget_and_a_household_choose_the_suggestion() -> None:
    assert "Nồi chiên không dầu 5L" in ask("nồi chiên cho nhà 4 người dưới 2 triệu").split(":")[0]
    assert "Nồi chiên không dầu 3.5L" in ask("nồi chiên cho 2 người dưới 1 triệu").split(":")[0]
    assert "chưa có mẫu nào" in ask("nồi chiên dưới 500k")


def _open_both(folder: str) -> int:
    """What one server does at start: opens the demo catalog and the demo shop; the catalog's size."""
    DemoShop.open(Path(folder) / "demo_shop.db")
    return len(DemoCatalog.open(Path(folder) / "demo_catalog.db").products())


def test_servers_starting_together_make_and_seed_the_demo_files_once(tmp_path: Path) -> None:
    """Two desks and the replicas of the scaled stack open the demo files at the same moment."""
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        sizes = pool.map(_open_both, [str(tmp_path)] * 6)
    assert sizes == [len(SEED)] * 6
    with sa.create_engine(f"sqlite:///{tmp_path / 'demo_shop.db'}").connect() as connection:
        orders = connection.execute(sa.text("SELECT COUNT(*), COUNT(DISTINCT number) FROM orders")).one()
    assert orders[0] == orders[1] > 0  # seeded once
