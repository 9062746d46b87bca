"""``make bench-unanswered``: the desk's "Câu chưa hiểu" page on 50,000 distinct messages.

Generates distinct Vietnamese customer messages (products, sizes, places, with
and without diacritics, teencode, phones, e-mails and order codes), stores them
in a Rasa ``events`` table as fallback messages, and runs, each in a fresh
process so one run's memory does not hide the next's:
- grouping alone (``group_messages``),
- the whole page's work (``unanswered``: read the events, drop form answers, mask, group), and
- grouping messages that resemble nothing (random syllables): the worst case, where the
  group limit (``MAX_GROUPS``) is what bounds the time,
printing wall time and the peak RSS the call added (``ru_maxrss`` minus the RSS before it).
The budget is 5 s and 200 MB at 50,000.
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

BUDGET_SECONDS, BUDGET_MB = 5.0, 200

PRODUCTS = [
    "áo thun", "áo sơ mi", "áo khoác gió", "áo len", "áo hoodie", "quần jean", "quần tây", "quần short",
    "váy maxi", "đầm công sở", "chân váy", "giày thể thao", "giày cao gót", "dép quai hậu", "sandal",
    "túi xách", "balo", "ví da", "mũ lưỡi trai", "khăn choàng", "thắt lưng", "đồ ngủ", "bộ đồ thể thao",
    "áo dài", "áo polo", "quần ống rộng", "tất", "kính mát", "đồng hồ", "vòng tay",
]  # fmt: skip
COLOURS = ["đen", "trắng", "đỏ", "xanh navy", "be", "hồng", "xám", "nâu", "vàng", "xanh rêu"]
SIZES = ["S", "M", "L", "XL", "XXL", "35", "36", "37", "38", "39", "40", "41", "42", "43"]
PLACES = [
    "Hà Nội", "Hải Phòng", "Đà Nẵng", "Huế", "Nha Trang", "Đà Lạt", "Cần Thơ", "Cà Mau", "Vũng Tàu",
    "Quy Nhơn", "Vinh", "Thanh Hóa", "Nam Định", "Bắc Ninh", "Lào Cai", "Sơn La", "Buôn Ma Thuột",
    "Pleiku", "Phú Quốc", "Côn Đảo", "Biên Hòa", "Thủ Đức", "Long Xuyên", "Rạch Giá", "Hạ Long",
]  # fmt: skip
PAYMENTS = ["momo", "zalopay", "chuyển khoản", "thẻ visa", "vnpay", "trả góp"]
NEEDS = [
    "{p} size {s} còn không", "{p} màu {c} còn hàng không", "ship ra {place} mấy ngày",
    "phí ship về {place} bao nhiêu", "đổi {p} sang size {s} được không", "{p} có bảo hành không",
    "mua {n} cái {p} có giảm giá không", "{p} chất liệu gì", "{p} giặt máy được không",
    "shop có cửa hàng ở {place} không", "thanh toán qua {pay} được không", "đơn {order} giao chưa",
    "mình đặt {p} hôm {day} sao chưa thấy", "sđt mình {phone} gọi lại giúp", "gửi hóa đơn qua {email} nhé",
    "{p} giá {price}k đúng không", "có voucher cho {p} không", "{p} màu {c} có size {s} không",
    "cao {height}cm nặng {weight}kg mặc {p} size nào", "{p} có hàng sẵn ở {place} không",
    "mua sỉ {n} cái {p} giá sao", "{p} bị lỗi đường may muốn trả", "có gói quà cho {p} không",
    "tuần sau có sale {p} không", "{p} có giống ảnh không",
]  # fmt: skip
OPENERS = ["", "shop ơi", "ad ơi", "cho mình hỏi", "chị ơi", "em ơi", "alo shop", "shop cho em hỏi", "hi shop"]
CLOSERS = ["", "ạ", "vậy", "nhé", "không", "ko", "k", "?", "shop", "nha", "vậy shop", "ạ?"]
TEENCODE = {"không": "ko", "được": "dc", "mình": "mk", "bao nhiêu": "bn", "vậy": "v", "gì": "j"}


def _message(rng: random.Random) -> str:
    from bot.text.normalize import strip_diacritics

    need = rng.choice(NEEDS).format(
        p=rng.choice(PRODUCTS), c=rng.choice(COLOURS), s=rng.choice(SIZES), place=rng.choice(PLACES),
        pay=rng.choice(PAYMENTS), n=rng.randint(2, 50), day=rng.choice(["qua", "kia", "thứ 2", "chủ nhật"]),
        order=f"DH{rng.randint(100000, 999999)}", phone=f"09{rng.randint(10000000, 99999999)}",
        email=f"khach{rng.randint(1, 99999)}@gmail.com", price=rng.randint(99, 999),
        height=rng.randint(145, 185), weight=rng.randint(40, 90),
    )  # fmt: skip
    text = " ".join(part for part in (rng.choice(OPENERS), need, rng.choice(CLOSERS)) if part)
    if rng.random() < 0.3:
        for word, short in TEENCODE.items():
            text = text.replace(word, short)
    if rng.random() < 0.3:
        text = strip_diacritics(text)
    return text


def distinct_messages(count: int, seed: int = 7) -> list[str]:
    """``count`` different customer messages, the same ones for the same seed."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(_message(rng), None)
    return list(seen)


def unrelated_messages(count: int, seed: int = 7) -> list[str]:
    """The worst case: ``count`` strings of random syllables that resemble nothing, so every one starts a group."""
    rng = random.Random(seed)
    parts = [c + v for c in ("b", "c", "d", "g", "h", "l", "m", "n", "ph", "qu", "t", "th", "tr", "v", "x")
             for v in ("a", "e", "o", "u", "an", "em", "in", "ot")]  # fmt: skip
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(" ".join(rng.choice(parts) + rng.choice(parts) for _ in range(rng.randint(3, 8))), None)
    return list(seen)


def _event_row(sender: str, type_name: str, moment: float, intent: str | None, data: dict) -> dict:
    """A row of Rasa's ``events`` table as SQLTrackerStore writes it."""
    return {"sender_id": sender, "type_name": type_name, "timestamp": moment, "intent_name": intent,
            "action_name": data.get("name"), "data": json.dumps(data)}  # fmt: skip


def seed_trackers(path: Path, messages: list[str], day: date) -> None:
    """A Rasa ``events`` table where every message ended in the fallback, one sender per 20 messages."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.admin.analytics import SHOP_TIMEZONE

    engine = sa.create_engine(f"sqlite:///{path}", future=True)
    SQLTrackerStore.Base.metadata.create_all(engine)
    start = datetime(day.year, day.month, day.day, 0, 30, tzinfo=SHOP_TIMEZONE).timestamp()
    step = 80_000 / len(messages)  # seconds: all within the shop's day
    rows = []
    for number, text in enumerate(messages):
        sender, moment = f"bench-{number // 20}", start + number * step
        if number % 20 == 0:
            rows.append(_event_row(sender, "session_started", moment - 0.1, None, {"event": "session_started"}))
        parse = {"intent": {"name": "nlu_fallback", "confidence": 0.3}}
        data = {"event": "user", "text": text, "timestamp": moment, "parse_data": parse}
        rows.append(_event_row(sender, "user", moment, "nlu_fallback", data))
    with engine.begin() as connection:
        connection.execute(SQLTrackerStore.SQLEvent.__table__.insert(), rows)


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


def run_one(what: str, count: int, trackers: str, day: str) -> None:
    """In this (fresh) process: one call, then a line of JSON with its time and added peak memory."""
    import sqlalchemy as sa

    from bot.admin.unanswered import group_messages, unanswered

    messages = unrelated_messages(count) if what == "unrelated" else distinct_messages(count)
    before = _rss_mb()
    started = time.perf_counter()
    if what in ("group", "unrelated"):
        result = group_messages(messages)
    else:  # the messages are in the events table
        shop_day = date.fromisoformat(day)
        result = unanswered(sa.create_engine(f"sqlite:///{trackers}"), shop_day, shop_day)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    groups = result.groups
    figures = {"seconds": seconds, "added_mb": peak - before, "groups": len(groups), "ungrouped": result.ungrouped,
               "messages": sum(g.count for g in groups) + result.ungrouped, "largest": [g.count for g in groups[:5]],
               "sample": groups[0].texts[:3] if groups else []}  # fmt: skip
    print(json.dumps(figures))


def measure(count: int) -> bool:
    day = date.today() - timedelta(days=1)
    with tempfile.TemporaryDirectory() as folder:
        trackers = Path(folder) / "trackers.db"
        seed_trackers(trackers, distinct_messages(count), day)
        within = True
        for what, label in (
            ("group", "grouping alone (group_messages)"),
            ("page", "whole page (unanswered)"),
            ("unrelated", "worst case: unrelated messages"),
        ):
            output = subprocess.run(
                [sys.executable, "-m", "bench.unanswered", "--one", what, "--count", str(count),
                 "--trackers", str(trackers), "--day", day.isoformat()],
                check=True, stdout=subprocess.PIPE, text=True,
            ).stdout  # fmt: skip
            result = json.loads(output.strip().splitlines()[-1])
            within &= result["seconds"] <= BUDGET_SECONDS and result["added_mb"] <= BUDGET_MB
            print(f"{label:32} {count:6} messages: {result['seconds']:5.2f} s, +{result['added_mb']:5.1f} MB peak, "
                  f"{result['messages']} counted, {result['groups']} groups + {result['ungrouped']} ungrouped, "
              f"largest {result['largest']}")  # fmt: skip
            print(f"{'':32} e.g. {result['sample']}")
    print(f"budget: {BUDGET_SECONDS:.0f} s and {BUDGET_MB} MB — {'met' if within else 'NOT met'}")
    return within


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--one", choices=["group", "page", "unrelated"], help=argparse.SUPPRESS)
    parser.add_argument("--trackers", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.count, args.trackers, args.day)
    else:
        raise SystemExit(0 if measure(args.count) else 1)


if __name__ == "__main__":
    main()
