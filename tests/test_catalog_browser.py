"""An agent looks a product up in a real browser (Playwright, Debian's chromium, headless) on the in-process
console: the header's Sản phẩm, a search typed without accents, the pictures shown under the console's
Content-Security-Policy, and the product's own page with its sizes, colours and stock."""

from pathlib import Path

import pytest

from bot.desk.accounts import AccountStore
from tests.console_server import console_server

pytestmark = pytest.mark.slow  # starts a browser


def test_an_agent_finds_a_product_without_accents_and_sees_its_picture_and_stock(tmp_path: Path, browser) -> None:
    with console_server(tmp_path) as server:
        AccountStore(server.engine).add_agent("lan", "lan-password-123", "Lan")
        page = browser.new_page()
        blocked: list[str] = []
        page.on("console", lambda message: blocked.append(message.text) if "Content Security" in message.text else None)
        page.goto(f"{server.url}/login")
        page.fill("input[name=username]", "lan")
        page.fill("input[name=password]", "lan-password-123")
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")

        page.get_by_role("link", name="Sản phẩm").click()
        page.wait_for_url(f"{server.url}/catalog")
        page.get_by_label("Tìm theo tên").fill("noi chien")
        page.get_by_role("button", name="Tìm").click()
        cards = page.locator("section.product")
        cards.first.wait_for()
        assert cards.count() == 2
        pictures = page.locator("img.product-picture")
        page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert pictures.count() == 2 and blocked == []

        page.get_by_role("link", name="Nồi chiên không dầu 5L").click()
        page.wait_for_url(f"{server.url}/catalog/noi-chien-5l")
        rows = page.locator("table.variants tbody tr")
        assert rows.count() == 2 and "hết hàng" in rows.nth(1).inner_text() and "trắng" in rows.nth(1).inner_text()
        assert "1.290.000đ" in page.locator(".price").inner_text()
        page.close()
