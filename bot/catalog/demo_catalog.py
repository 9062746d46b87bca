"""An embedded demo catalog on SQLite, seeded on first use with the demo shop's products.

The first four are the products of the demo page (widget/src/demo.html) at the page's prices, the
rest those of the demo orders (bot/orders/demo_shop.py) and a few more, with sizes, colours, stock
and sale prices, so product questions can be tried without a shop system; a real shop points
``CATALOG_API_URL`` at its own API instead (``http_backend``). Pictures are small committed PNGs the
widget's route serves (widget/src/products/).
"""

import json
from dataclasses import asdict
from pathlib import Path

import sqlalchemy as sa

from bot.catalog.model import Product, Variant
from bot.database import set_up_alone

metadata = sa.MetaData()
products_table = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(80), nullable=False),
    sa.Column("aliases", sa.Text, nullable=False),  # JSON list
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("image_url", sa.String(500), nullable=False),
    sa.Column("serves", sa.Integer),
    sa.Column("position", sa.Integer, nullable=False),
)
variants_table = sa.Table(
    "variants",
    metadata,
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), nullable=False, index=True),
    sa.Column("size", sa.String(20), nullable=False),
    sa.Column("colour", sa.String(40), nullable=False),
    sa.Column("price", sa.Integer, nullable=False),
    sa.Column("sale_price", sa.Integer),
    sa.Column("stock", sa.Integer, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
)

# where the Rasa server's widget route serves the pictures (connectors/webchat.py)
IMAGE_PATH = "/webhooks/socketio/products/"


def _variants(sku: str, price: int, stock: dict[tuple[str, str], int], sale: int | None = None) -> tuple[Variant, ...]:
    return tuple(
        Variant(f"{sku}-{i}", price, count, size, colour, sale)
        for i, ((size, colour), count) in enumerate(stock.items())
    )


def _grid(sizes: list[str], colours: list[str], out: set[tuple[str, str]], count: int = 6) -> dict:
    return {(s, c): 0 if (s, c) in out else count for s in sizes for c in colours}


def _product(id: str, name: str, kind: str, variants: tuple[Variant, ...], description: str, *,
             aliases: tuple[str, ...] = (), serves: int | None = None) -> Product:  # fmt: skip
    return Product(id, name, kind, variants, description, f"{IMAGE_PATH}{id}.png", aliases, serves)


SEED: tuple[Product, ...] = (
    _product("noi-chien-5l", "Nồi chiên không dầu 5L", "nồi chiên",
             _variants("NC5", 1_490_000, {("", "đen"): 9, ("", "trắng"): 0}, sale=1_290_000),
             "Lòng nồi 5 lít, công suất 1500W, hợp gia đình 3–5 người; lòng chống dính, hẹn giờ 60 phút.",
             aliases=("nồi chiên không dầu", "air fryer"), serves=5),
    _product("bo-chen-su-12", "Bộ chén sứ 12 món", "bộ chén",
             _variants("CS12", 459_000, {("", "trắng"): 20, ("", "men lam"): 4}),
             "6 chén cơm, 4 đĩa, 2 tô sứ trắng; dùng được lò vi sóng và máy rửa bát.",
             aliases=("chén sứ", "bộ bát", "bát đĩa", "chén bát", "chén dĩa"), serves=6),
    _product("quat-dung", "Quạt đứng tiết kiệm điện", "quạt đứng",
             _variants("QD", 890_000, {("", "trắng"): 8, ("", "xám"): 3}),
             "Động cơ DC 35W, 12 mức gió, điều khiển từ xa, chạy êm.",
             aliases=("quạt", "quạt cây", "quạt tiết kiệm điện")),
    _product("ke-go-4-tang", "Kệ gỗ 4 tầng", "kệ gỗ",
             _variants("KG4", 1_050_000, {("", "gỗ tự nhiên"): 5, ("", "óc chó"): 0}),
             "Gỗ cao su, cao 140cm, rộng 60cm, mỗi tầng chịu 15kg; tự lắp trong 20 phút.",
             aliases=("kệ", "kệ sách", "giá sách", "kệ 4 tầng")),
    _product("noi-chien-3-5l", "Nồi chiên không dầu 3.5L", "nồi chiên",
             _variants("NC35", 990_000, {("", "đen"): 6}),
             "Lòng nồi 3,5 lít, công suất 1300W, gọn cho 1–3 người.",
             aliases=("nồi chiên không dầu", "air fryer"), serves=3),
    _product("ao-thun-cotton", "Áo thun cotton basic", "áo thun",
             _variants("AT", 199_000, _grid(["S", "M", "L", "XL", "XXL"], ["đen", "trắng", "xám"],
                                            {("M", "đen"), ("XXL", "trắng"), ("S", "xám")}), sale=169_000),
             "Cotton 100% 220gsm, cổ tròn, form suông unisex.",
             aliases=("áo phông", "áo thun cotton", "áo cotton")),
    _product("ban-go-tron", "Bàn gỗ tròn", "bàn gỗ tròn",
             (Variant("BGT-80-oc", 2_350_000, 3, "80cm", "óc chó"),
              Variant("BGT-100-oc", 2_890_000, 0, "100cm", "óc chó"),
              Variant("BGT-80-soi", 2_150_000, 4, "80cm", "sồi tự nhiên"),
              Variant("BGT-100-soi", 2_690_000, 2, "100cm", "sồi tự nhiên", 2_490_000)),
             "Mặt gỗ tự nhiên phủ PU chống nước; 80cm cho 2–4 người, 100cm cho 4–6 người.",
             aliases=("bàn tròn", "bàn ăn tròn", "bàn ăn", "bàn gỗ"), serves=6),
    _product("ao-so-mi-linen", "Áo sơ mi linen trắng", "áo sơ mi",
             _variants("SM", 389_000, _grid(["S", "M", "L", "XL"], ["trắng"], {("XL", "trắng")}, 5)),
             "Linen pha cotton, thoáng mát, form rộng vừa.",
             aliases=("sơ mi", "áo sơ mi linen", "áo linen")),
    _product("bo-chan-ga", "Bộ chăn ga cotton", "chăn ga",
             _variants("CG", 890_000, _grid(["1m6", "1m8"], ["xanh nhạt", "kem"], {("1m8", "kem")}, 4)),
             "Cotton 100%, gồm 1 chăn, 1 ga bọc, 2 vỏ gối.",
             aliases=("bộ chăn ga", "ga giường", "chăn ga gối", "drap")),
    _product("am-sieu-toc", "Ấm siêu tốc 1.7L", "ấm siêu tốc",
             _variants("AST", 329_000, {("", "bạc"): 25}),
             "Inox 304, 1,7 lít, tự ngắt khi sôi.",
             aliases=("ấm đun", "ấm điện", "bình đun", "ấm đun nước", "bình siêu tốc")),
    _product("quan-jean-ong-suong", "Quần jean ống suông", "quần jean",
             _variants("QJ", 459_000, _grid(["27", "28", "29", "30", "31"], ["xanh nhạt", "xanh đậm"],
                                            {("27", "xanh đậm"), ("31", "xanh nhạt")}, 3)),
             "Denim co giãn nhẹ, lưng cao, ống suông.",
             aliases=("quần bò", "jean", "quần jeans")),
    _product("den-ngu-go", "Đèn ngủ gỗ", "đèn ngủ",
             _variants("DNG", 259_000, {("", "gỗ tự nhiên"): 0}),
             "Chân gỗ sồi, chụp vải, bóng LED ánh vàng.",
             aliases=("đèn ngủ gỗ", "đèn gỗ")),
    _product("may-xay-mini", "Máy xay sinh tố mini", "máy xay sinh tố",
             _variants("MX", 690_000, {("", "hồng"): 7, ("", "xanh mint"): 2}),
             "Cối 600ml, 300W, mang đi được.",
             aliases=("máy xay", "máy xay mini")),
    _product("goi-tua-lung", "Gối tựa lưng", "gối tựa lưng",
             _variants("GT", 199_000, {("", "be"): 12, ("", "xám"): 6, ("", "xanh rêu"): 0}),
             "Vỏ nhung tháo giặt được, ruột bông 45x45cm.",
             aliases=("gối tựa", "gối sofa", "gối tựa lưng")),
    _product("vay-hoa-nhi", "Váy hoa nhí", "váy hoa nhí",
             _variants("VHN", 420_000, _grid(["S", "M", "L"], ["vàng", "xanh"], {("L", "vàng")}, 4), sale=359_000),
             "Voan lót lụa, dáng xoè, dài qua gối.",
             aliases=("đầm hoa nhí", "váy hoa", "đầm hoa")),
    _product("bo-noi-inox-3", "Bộ nồi inox 3 món", "bộ nồi inox",
             _variants("BNI", 1_150_000, {("", "inox"): 5}),
             "Nồi 16, 20, 24cm inox 3 đáy, dùng được bếp từ.",
             aliases=("bộ nồi", "nồi inox"), serves=4),
    _product("khan-tam-cotton", "Khăn tắm cotton", "khăn tắm",
             _variants("KT", 129_000, {("", "trắng"): 30, ("", "xám"): 10, ("", "hồng"): 0}),
             "70x140cm, cotton 100%, thấm nhanh.",
             aliases=("khăn", "khăn bông")),
)  # fmt: skip


def _to_product(row: sa.engine.Row, variants: list[sa.engine.Row]) -> Product:
    return Product(
        id=row.id,
        name=row.name,
        kind=row.kind,
        variants=tuple(Variant(v.sku, v.price, v.stock, v.size, v.colour, v.sale_price) for v in variants),
        description=row.description,
        image_url=row.image_url,
        aliases=tuple(json.loads(row.aliases)),
        serves=row.serves,
    )


class DemoCatalog:
    """The demo shop's products in one SQLite file; stock and prices read at each call."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)
        with engine.begin() as connection:
            if connection.execute(sa.select(sa.func.count()).select_from(products_table)).scalar() == 0:
                self._seed(connection)

    @staticmethod
    def _seed(connection: sa.engine.Connection) -> None:
        for position, product in enumerate(SEED):
            aliases = json.dumps(product.aliases, ensure_ascii=False)
            connection.execute(products_table.insert().values(
                id=product.id, name=product.name, kind=product.kind, aliases=aliases, description=product.description,
                image_url=product.image_url, serves=product.serves, position=position,
            ))  # fmt: skip
            connection.execute(
                variants_table.insert(),
                [{**asdict(v), "product_id": product.id, "position": i} for i, v in enumerate(product.variants)],
            )

    @classmethod
    def open(cls, path: Path) -> "DemoCatalog":
        with set_up_alone(path):  # every server opens it at start; one makes and seeds it
            return cls(sa.create_engine(f"sqlite:///{path}", future=True))

    def _read(self, where: sa.sql.ColumnElement | None = None) -> list[Product]:
        query = sa.select(products_table).order_by(products_table.c.position)
        if where is not None:
            query = query.where(where)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
            variants = connection.execute(
                sa.select(variants_table)
                .where(variants_table.c.product_id.in_([r.id for r in rows]))
                .order_by(variants_table.c.position)
            ).all()
        by_product: dict[str, list[sa.engine.Row]] = {}
        for variant in variants:
            by_product.setdefault(variant.product_id, []).append(variant)
        return [_to_product(row, by_product.get(row.id, [])) for row in rows]

    @classmethod
    def open_memory(cls) -> "DemoCatalog":
        """A fresh seeded catalog that lives as long as the object (tools and tests)."""
        return cls(sa.create_engine("sqlite://", future=True))

    def products(self) -> list[Product]:
        return self._read()

    def get(self, product_id: str) -> Product | None:
        found = self._read(products_table.c.id == product_id)
        return found[0] if found else None

    def set_stock(self, sku: str, stock: int) -> None:
        """Stock changes as the shop sells (what the demo and the tests use to show answers read it live)."""
        with self._engine.begin() as connection:
            connection.execute(variants_table.update().where(variants_table.c.sku == sku).values(stock=stock))
