"""``cskh``: the admin's command line.

    cskh faq list
    cskh faq show shipping_fee
    cskh faq add goi_qua --question "shop có gói quà không" --question "..." --answer "Có bạn nhé ..."
    cskh faq edit shipping_fee --add-question "..." --remove-question "..." --answer "..."
    cskh faq remove goi_qua
    cskh faq title goi_qua "Gói quà"   (the name staff see; applies at once, no retrain)
    cskh faq export faq.csv          (UTF-8 with BOM: opens in Excel)
    cskh faq import faq.csv
    cskh faq discard                 (drop unpublished edits)
    cskh retrain                     (train on the draft; deploy if it passes the quality gate)
    cskh releases                    (the last deployed versions)
    cskh rollback 3                  (serve release 3 again)
    cskh backup /srv/backups/2026-12-04   (the project database and the conversations)
    cskh restore /srv/backups/2026-12-04  (replaces them: stop the bot first)
    cskh db upgrade                  (the project database to this release's schema; make run does it too)
    cskh db current                  (which revision it is at)
    cskh db revision "due times"     (developers: the next migration, from bot/schema.py's changes)
    cskh orders set-status DH123456 shipping   (the demo shop: change a status; its owners are told)

Edits go to the draft (the var dir's admin/draft); `cskh retrain` publishes them once the
new model passes the quality gate.
"""

import argparse
import getpass
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from bot import migrations
from bot.admin import backup, draft, retrain
from bot.admin.audit import AuditLog
from bot.admin.editor import FaqEditor, FaqRejectedError, Saved
from bot.admin.faq import FaqConflictError, Topic, UnknownTopicError
from bot.database import masked_url, project_engine
from bot.order_updates import NoticeConfig, NoticeConfigError, OrderUpdates
from bot.orders.demo_shop import DemoShop
from bot.orders.model import OrderStatus
from bot.settings import Settings, current_settings
from bot.topic_titles import save_title, title_of, topic_titles


def _editor(settings: Settings) -> FaqEditor:
    return FaqEditor(draft.draft(settings), AuditLog(project_engine(settings)), data_dir=settings.data_dir)


def _report(saved: Saved, what: str) -> None:
    print(what)
    for warning in saved.warnings:
        print(f"  cảnh báo: {warning}")
    print("Chưa áp dụng cho bot: chạy `cskh retrain` để huấn luyện và đưa vào sử dụng.")


def _show(topic: Topic, title: str) -> None:
    print(f"# {title} [{topic.name}] ({len(topic.examples)} câu hỏi)")
    for example in topic.examples:
        print(f"- {example}")
    print(f"\nTrả lời:\n{topic.answer}")


def _faq(args: argparse.Namespace, actor: str, settings: Settings) -> int:
    editor = _editor(settings)
    titles = topic_titles(settings.data_dir)
    if args.action == "list":
        for topic in editor.files.topics():
            name = title_of(titles, topic.name)
            print(f"{topic.name:20} {name:24} {len(topic.examples):4} câu hỏi   {topic.answer.splitlines()[0][:60]}")
        if draft.has_changes(settings):
            print("\n(bản nháp có thay đổi chưa áp dụng; `cskh retrain` để áp dụng)")
    elif args.action == "show":
        _show(editor.files.topic(args.topic), title_of(titles, args.topic))
    elif args.action == "title":
        editor.files.topic(args.topic)  # an unknown topic is refused like everywhere else
        save_title(settings.data_dir, args.topic, args.title)
        AuditLog(project_engine(settings)).record(actor, "faq_title", args.topic, message=args.title.strip())
        print(f"Đã đặt tên “{args.title.strip()}” cho {args.topic} (áp dụng ngay, không cần huấn luyện lại).")
    elif args.action == "add":
        saved = editor.save_topic(actor, Topic(args.topic, args.question, args.answer), None, new=True)
        _report(saved, f"Đã thêm chủ đề {args.topic}.")
    elif args.action == "edit":
        version = editor.files.version()
        topic = editor.files.topic(args.topic)
        removed = {q.strip() for q in args.remove_question}
        examples = [e for e in topic.examples if e not in removed] + args.add_question
        answer = args.answer if args.answer is not None else topic.answer
        _report(editor.save_topic(actor, Topic(topic.name, examples, answer), version), f"Đã sửa {args.topic}.")
    elif args.action == "remove":
        editor.remove_topic(actor, args.topic, None)
        print(f"Đã xoá chủ đề {args.topic} khỏi bản nháp.")
    elif args.action == "export":
        Path(args.file).write_bytes(editor.export_csv())
        print(f"Đã xuất {args.file}.")
    elif args.action == "import":
        _report(editor.import_csv(actor, Path(args.file).read_bytes(), None), f"Đã nhập {args.file}.")
    elif args.action == "discard":
        draft.discard(settings)
        print("Đã bỏ mọi thay đổi chưa áp dụng.")
    return 0


def _databases(args: argparse.Namespace, actor: str, settings: Settings) -> int:
    if args.command == "backup":
        written = backup.backup(settings, args.folder)
        print(f"Đã sao lưu {len(written)} cơ sở dữ liệu vào {args.folder}: {', '.join(p.name for p in written)}")
        action, detail = "backup", str(args.folder)
    else:
        restored = backup.restore(settings, args.folder)
        print(f"Đã khôi phục từ {args.folder}: {', '.join(restored) or 'không có gì'}")
        action, detail = "restore", f"{args.folder}: {', '.join(restored)}"
        _upgraded(migrations.upgrade(project_engine(settings)), masked_url(settings.database_url))  # an older backup
    AuditLog(project_engine(settings)).record(actor, action, detail)
    return 0


def _upgraded(done: migrations.Upgrade, where: str) -> None:
    if done.adopted:
        print(f"{where}: tạo trước khi có migrations, đã nhận và nâng lên phiên bản {done.after}.")
    elif done.changed:
        print(f"{where}: đã nâng từ phiên bản {done.before or '(trống)'} lên {done.after}.")
    else:
        print(f"{where}: đã ở phiên bản {done.after}, không có gì để nâng.")


def _schema(args: argparse.Namespace, actor: str, settings: Settings) -> int:
    engine, where = project_engine(settings), masked_url(settings.database_url)
    if args.action == "current":
        revision, newest = migrations.current(engine), migrations.head()
        if revision is None:
            print(f"{where}: chưa có phiên bản (mới, hoặc tạo trước khi có migrations); `cskh db upgrade` để nâng.")
        else:
            state = "mới nhất" if revision == newest else f"cần nâng lên {newest}: `cskh db upgrade`"
            print(f"{where}: phiên bản {revision} ({state})")
    elif args.action == "upgrade":
        done = migrations.upgrade(engine)
        _upgraded(done, where)
        if done.changed:
            AuditLog(engine).record(actor, "db_upgrade", where, before=done.before, after=done.after)
    else:
        print(f"Đã viết {migrations.new_revision(args.message)}: đọc lại, sửa nếu cần, rồi commit cùng bot/schema.py.")
    return 0


NOTICE_WORDS = {"queued": "đang gửi", "skipped": "bỏ qua", "failed": "không gửi được"}


def _orders(args: argparse.Namespace, actor: str, settings: Settings) -> int:
    """The demo shop's status change, announced the way the shop's webhook is (bot/order_updates.py)."""
    if settings.order_api_url:
        print("Đơn hàng nằm ở hệ thống của shop (ORDER_API_URL): đổi trạng thái ở đó, hệ thống sẽ gọi webhook.",
              file=sys.stderr)  # fmt: skip
        return 1
    updates = OrderUpdates(project_engine(settings), NoticeConfig.load(settings.notices_config))
    try:
        order = DemoShop.open(settings.demo_shop_db).set_status(args.order.strip().upper(), OrderStatus(args.status))
    except KeyError:
        print(f"Không có đơn {args.order}.", file=sys.stderr)
        return 1
    notices = updates.announce(f"demo-{uuid.uuid4().hex}", order)
    AuditLog(project_engine(settings)).record(actor, "order_status", order.number, status=order.status.value)
    print(f"Đơn {order.number}: {order.status.label}. Thông báo cho {len(notices)} khách.")
    for notice in notices:
        reason = f" ({notice.reason})" if notice.reason else ""
        print(f"  {notice.route:14} {NOTICE_WORDS.get(notice.outcome, notice.outcome)}{reason}")
    return 0


def _releases(args: argparse.Namespace, actor: str, settings: Settings) -> int:
    if args.command == "retrain":
        return retrain.main(["--as", actor], settings)
    if args.command == "rollback":
        print(f"Đang dùng lại bản phát hành {args.number}: {retrain.rollback(args.number, actor, settings)}")
        return 0
    for release in retrain.load_releases(settings):
        print(f"{release['number']:3}  {release['at'][:19]}  {release['actor']:12} {release['accuracy']:.1%}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cskh", description="cskh-bot admin")
    root.add_argument("--as", dest="actor", default=getpass.getuser(), help="who is editing")
    commands = root.add_subparsers(dest="command", required=True)
    faq = commands.add_parser("faq", help="FAQ topics: questions and answers").add_subparsers(
        dest="action", required=True
    )
    faq.add_parser("list")
    for name in ("show", "remove"):
        faq.add_parser(name).add_argument("topic")
    add = faq.add_parser("add")
    add.add_argument("topic")
    add.add_argument("--question", action="append", default=[], required=True)
    add.add_argument("--answer", required=True)
    edit = faq.add_parser("edit")
    edit.add_argument("topic")
    edit.add_argument("--add-question", action="append", default=[])
    edit.add_argument("--remove-question", action="append", default=[])
    edit.add_argument("--answer")
    title = faq.add_parser("title", help="the topic's name for staff (admin pages, analytics, suggestions)")
    title.add_argument("topic")
    title.add_argument("title")
    for name in ("import", "export"):
        faq.add_parser(name).add_argument("file")
    faq.add_parser("discard")
    commands.add_parser("retrain", help="train on the draft and deploy it if it passes the quality gate")
    commands.add_parser("releases", help="the last deployed versions")
    commands.add_parser("rollback", help="serve an earlier release again").add_argument("number", type=int)
    commands.add_parser("backup", help="copy the databases into a folder").add_argument("folder", type=Path)
    commands.add_parser("restore", help="replace the databases from a backup").add_argument("folder", type=Path)
    db = commands.add_parser("db", help="the project database's schema").add_subparsers(dest="action", required=True)
    db.add_parser("upgrade", help="bring it to this release's schema (make run does this at start)")
    db.add_parser("current", help="the revision it is at")
    db.add_parser("revision", help="developers: write the next migration from bot/schema.py").add_argument("message")
    orders = commands.add_parser("orders", help="the demo shop's orders").add_subparsers(dest="action", required=True)
    set_status = orders.add_parser("set-status", help="change an order's status; customers who proved it are told")
    set_status.add_argument("order")
    set_status.add_argument("status", choices=[status.value for status in OrderStatus])
    return root


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """``cskh``; ``settings`` are this process's own unless given (tests give theirs)."""
    args = parser().parse_args(argv)
    settings = settings or current_settings()
    try:
        if args.command in ("backup", "restore"):
            return _databases(args, args.actor, settings)
        if args.command == "db":
            return _schema(args, args.actor, settings)
        if args.command == "orders":
            return _orders(args, args.actor, settings)
        return _faq(args, args.actor, settings) if args.command == "faq" else _releases(args, args.actor, settings)
    except FaqRejectedError as rejected:
        print("Không lưu được:", file=sys.stderr)
        for error in rejected.findings.errors:
            print(f"  - {error}", file=sys.stderr)
        return 1
    except UnknownTopicError as error:
        print(f"Không có chủ đề {error}. Xem `cskh faq list`.", file=sys.stderr)
        return 1
    except NoticeConfigError as error:
        print(f"notices.yml không đọc được: {error}", file=sys.stderr)
        return 1
    except backup.BackupError as error:
        print(error, file=sys.stderr)
        return 1
    except migrations.UpgradeError as error:
        print(
            f"Cơ sở dữ liệu đang ở phiên bản {error.revision}, bản cskh-bot này không biết: một bản mới hơn đã nâng "
            "nó. Chạy bản đó, hoặc khôi phục bản sao lưu trước khi nâng (docs/OPERATIONS.md).",
            file=sys.stderr,
        )
        return 1
    except (FaqConflictError, OSError, retrain.RetrainError) as error:
        print(f"Không lưu được: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
