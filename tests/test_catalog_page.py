"""The console's catalog page (/catalog): every agent browses the products as the bot reads them, searches
them as they type (with or without accents), and gets a polite page when the shop's catalog is down; nobody
without a session sees anything, and nothing on it changes a product.

The desk runs in this process (tests/console_server.py) on the embedded demo catalog, or on the shop's
product API played by tests/fakes/product_api.py.
"""

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.admin.analytics import SHOP_TIMEZONE
from bot.admin.catalog_page import CATALOG_DOWN
from bot.catalog.demo_catalog import SEED, DemoCatalog
from bot.desk.accounts import AccountStore
from bot.sandbox import ADMIN_PASSWORD, DeskAgent
from bot.settings import Settings, settings_in_force
from tests.console_server import ConsoleServer, console_server
from tests.fakes.product_api import FakeProductApi
from tests.test_admin_analytics import product_turn
from tests.test_catalog import api_product

PRODUCT = re.compile(r'<section class="card product" data-product="([^"]+)"')


@pytest.fixture
def desk(tmp_path: Path):
    with console_server(tmp_path, demo_catalog_db=tmp_path / "catalog.db") as server:
        AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
        yield server, tmp_path / "catalog.db"


def lan(server: ConsoleServer) -> DeskAgent:
    agent = DeskAgent(server.url, "lan", "lan-password-123")
    assert agent.status == 200
    return agent


def shown(agent: DeskAgent, query: str | None = None) -> list[str]:
    page = agent.http.get(f"{agent.desk_url}/catalog", params={"q": query} if query is not None else None, timeout=10)
    assert page.status_code == 200
    return PRODUCT.findall(page.text)


def card(page: str, product_id: str) -> str:
    start = page.index(f'data-product="{product_id}"')
    return page[start : page.index("</section>", start)]


def test_an_agent_browses_the_demo_catalog_with_pictures_prices_sizes_colours_and_stock(desk) -> None:
    server, _ = desk
    agent = lan(server)
    page = agent.http.get(f"{server.url}/catalog", timeout=10).text
    assert '<a class="nav" href="/catalog">Sản phẩm</a>' in page
    assert PRODUCT.findall(page) == [p.id for p in SEED]
    assert "Chỉ để xem" in page and "hệ thống bán hàng của shop" in page  # edited in the shop's own system
    fryer = card(page, "noi-chien-5l")
    assert '<img class="product-picture" src="/catalog/pictures/noi-chien-5l.png"' in fryer
    assert '<strong class="sale">1.290.000đ</strong> <s>1.490.000đ</s>' in fryer  # sale price against the list price
    assert "Lòng nồi 5 lít" in fryer
    shirt = card(page, "ao-thun-cotton")
    sold_out = re.search(r'<tr data-sku="AT-3" class="sold-out">\s*<td>AT-3</td><td>M</td><td>đen</td>(.*?)</tr>',
                         shirt, re.S)  # fmt: skip
    assert sold_out and '<strong class="sale">169.000đ</strong> <s>199.000đ</s>' in sold_out.group(1)
    assert '<td class="stock">hết hàng</td>' in sold_out.group(1)
    in_stock = re.search(r'<tr data-sku="AT-4">\s*<td>AT-4</td><td>M</td><td>trắng</td>(.*?)</tr>', shirt, re.S)
    assert in_stock and '<td class="stock">6</td>' in in_stock.group(1)
    picture = agent.http.get(f"{server.url}/catalog/pictures/noi-chien-5l.png", timeout=10)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")


def test_a_product_page_shows_every_variant_and_what_customers_call_it(desk) -> None:
    server, _ = desk
    agent = lan(server)
    page = agent.http.get(f"{server.url}/catalog/ban-go-tron", timeout=10)
    assert page.status_code == 200
    assert "<h2>Bàn gỗ tròn</h2>" in page.text and "bàn ăn tròn" in page.text and "hợp 6 người" in page.text
    assert re.search(r'data-sku="BGT-100-oc" class="sold-out">\s*<td>BGT-100-oc</td><td>100cm</td><td>óc chó</td>',
                     page.text)  # fmt: skip
    assert '<strong class="sale">2.490.000đ</strong> <s>2.690.000đ</s>' in page.text
    missing = agent.http.get(f"{server.url}/catalog/khong-co-mon-nay", timeout=10)
    assert missing.status_code == 404 and "Không tìm thấy sản phẩm này" in missing.text


def test_search_finds_products_as_staff_type_them_with_or_without_accents(desk) -> None:
    server, _ = desk
    agent = lan(server)
    assert shown(agent, "noi chien") == ["noi-chien-5l", "noi-chien-3-5l"]
    assert shown(agent, "Nồi chiên 3.5") == ["noi-chien-3-5l"]
    assert shown(agent, "ao thun") == ["ao-thun-cotton"]
    assert shown(agent, "QUAT") == ["quat-dung"]
    assert shown(agent, "ao phong") == ["ao-thun-cotton"]  # what customers also call it
    assert shown(agent, "noi chein 5l") == ["noi-chien-5l"]  # a typo the bot forgives is forgiven here too
    assert shown(agent, "máy rửa bát") == []
    assert "Không có sản phẩm nào khớp “máy rửa bát”" in agent.http.get(
        f"{server.url}/catalog", params={"q": "máy rửa bát"}, timeout=10).text  # fmt: skip
    assert len(shown(agent, "")) == len(SEED)


def test_stock_is_read_live_at_each_visit(desk) -> None:
    server, catalog_db = desk
    agent = lan(server)
    assert "<strong class=\"error\">hết hàng</strong>" in card(agent.http.get(f"{server.url}/catalog", timeout=10).text,
                                                             "den-ngu-go")  # fmt: skip
    DemoCatalog.open(catalog_db).set_stock("DNG-0", 12)
    lamp = card(agent.http.get(f"{server.url}/catalog", timeout=10).text, "den-ngu-go")
    assert "còn hàng" in lamp and '<td class="stock">12</td>' in lamp


def test_the_shops_api_is_read_and_its_outage_is_a_polite_page_not_an_error(tmp_path) -> None:
    with FakeProductApi([api_product()], token="s3cret") as api:
        changes = {"catalog_api_url": api.url, "catalog_api_token": "s3cret", "catalog_api_timeout": 0.5}
        with console_server(tmp_path, **changes) as server:
            AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
            agent = lan(server)
            page = agent.http.get(f"{server.url}/catalog", timeout=10)
            assert PRODUCT.findall(page.text) == ["noi-chien-5l"]
            # a picture kept by the shop is linked: the console loads images from itself only
            assert '<a class="product-picture" href="https://shop.example/noi.png"' in page.text
            for broken in ("fail", "garbage"):
                if broken == "fail":
                    api.fail_next = 100
                else:
                    api.fail_next, api.garbage = 0, True
                for path in ("/catalog", "/catalog/noi-chien-5l"):
                    down = agent.http.get(f"{server.url}{path}", timeout=10)
                    assert down.status_code == 503 and CATALOG_DOWN in down.text, (broken, path)
                    assert "Sản phẩm" in down.text and "Traceback" not in down.text
    with console_server(
        tmp_path / "unreachable", catalog_api_url="http://127.0.0.1:9", catalog_api_timeout=0.5
    ) as server:
        AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
        down = lan(server).http.get(f"{server.url}/catalog", timeout=10)
        assert down.status_code == 503 and CATALOG_DOWN in down.text


# --- attacks ------------------------------------------------------------------------------------------------


def test_without_a_session_nothing_of_the_catalog_is_shown(desk) -> None:
    server, _ = desk
    for path in ("/catalog", "/catalog?q=noi", "/catalog/noi-chien-5l", "/catalog/pictures/noi-chien-5l.png"):
        stranger = requests.get(f"{server.url}{path}", allow_redirects=False, timeout=10)
        assert stranger.status_code == 302 and stranger.headers["location"] == "/login", path
        assert "Nồi chiên" not in stranger.text and not stranger.content.startswith(b"\x89PNG")
    forged = requests.Session()
    forged.cookies.set("cskh_session", "forged-session-token")
    assert forged.get(f"{server.url}/catalog", allow_redirects=False, timeout=10).status_code == 302


def test_forged_input_reads_nothing_else_and_changes_nothing(desk) -> None:
    server, _ = desk
    agent = lan(server)
    for name in ("..%2F..%2Fsrc%2Fwidget.js", "..%2Fdemo.html", "noi-chien-5l.png%00.js", "NOI.png"):
        assert agent.http.get(f"{server.url}/catalog/pictures/{name}", timeout=10).status_code == 404, name
    long_query = agent.http.get(f"{server.url}/catalog", params={"q": "nồi " * 400}, timeout=10)
    assert long_query.status_code == 200 and f'value="{("nồi " * 25).strip()}"' in long_query.text  # cut at 100
    assert agent.http.get(f"{server.url}/catalog", params={"q": "nồi " * 5000}, timeout=10).status_code != 500
    assert agent.http.get(f"{server.url}/catalog/{'x' * 5000}", timeout=10).status_code == 404
    assert "<script>" not in agent.http.get(f"{server.url}/catalog", params={"q": "<script>alert(1)</script>"},
                                            timeout=10).text  # fmt: skip
    # read-only: no route changes a product, with a session and its CSRF token
    for path in ("/catalog", "/catalog/noi-chien-5l"):
        posted = agent.http.post(f"{server.url}{path}", data={"csrf_token": agent.csrf, "price": "1"}, timeout=10)
        assert posted.status_code in (404, 405), path
    assert "1.290.000đ" in card(agent.http.get(f"{server.url}/catalog", timeout=10).text, "noi-chien-5l")


# --- product questions in the admin's analytics -------------------------------------------------------------


def test_the_admin_sees_product_questions_as_a_topic_with_the_products_asked_and_the_unknown_ones(tmp_path) -> None:
    now = datetime.now(SHOP_TIMEZONE) - timedelta(minutes=30)
    asked = {
        "web:a": ["nồi chiên 5L giá nhiêu", "máy rửa bát âm tủ giá bao nhiêu"],
        "web:b": ["noi chien 5l con hang ko", "may rua bat am tu bao tien"],
        "web:c": ["quạt đứng còn hàng không"],
    }
    with settings_in_force(Settings.under(tmp_path / "actions")):  # the demo catalog the action answers from
        stored = {sender: [e for n, text in enumerate(texts) for e in product_turn(now + timedelta(minutes=n), text)]
                  for sender, texts in asked.items()}  # fmt: skip
    trackers = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "trackers.db"))
    for sender, events in stored.items():
        asyncio.run(trackers.save(DialogueStateTracker.from_events(sender, [SessionStarted(), *events])))
    trackers.engine.dispose()
    with console_server(tmp_path / "desk", tracker_db=str(tmp_path / "trackers.db")) as server:
        admin = DeskAgent(server.url, "admin", ADMIN_PASSWORD)
        page = admin.http.get(f"{server.url}/admin/analytics", timeout=30).text
        chart = page[page.index("Chủ đề được hỏi nhiều nhất") : page.index("Lý do chuyển nhân viên")]
        assert "<title>product_question</title>Hỏi về sản phẩm</text>" in chart and ">5</text>" in chart
        top = page[page.index('id="top-products"') :]
        assert re.search(r'data-product="noi-chien-5l"><td><a href="/catalog/noi-chien-5l">Nồi chiên không dầu 5L</a>'
                         r"</td><td>2</td>", top)  # fmt: skip
        assert 'data-product="quat-dung"' in top
        assert re.search(r'id="unknown-products">.*?<strong>2</strong>', page, re.S)
        unanswered = admin.http.get(f"{server.url}/admin/unanswered", timeout=30).text
        unknown = unanswered[unanswered.index('id="san-pham"') :]
        assert "<h3>2 tin nhắn</h3>" in unknown and "máy rửa bát âm tủ giá bao nhiêu" in unknown
        assert "nồi chiên 5L giá nhiêu" not in unknown  # a product the catalog has is no miss
