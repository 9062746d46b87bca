"""Admin pages of the console: edit FAQ topics, retrain with the quality gate, releases, analytics.

Mounted on the desk's app by bot/console_app.py; they use the console's login and templates (bot/desk).

Edits go to the draft through the same FaqEditor as the ``cskh`` CLI; the
live model is asked how it would file each new question, so a question the bot
would send to another topic is shown as a warning before training. Retraining
runs ``python -m bot.admin.retrain --json`` in the background; the page polls
its stage and percent.
"""

import asyncio
import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse

from bot.admin import analytics, draft, retrain
from bot.admin.analytics import SHOP_TIMEZONE
from bot.admin.audit import AuditLog
from bot.admin.editor import FaqEditor, FaqRejectedError
from bot.admin.faq import FaqConflictError, Topic, UnknownTopicError
from bot.admin.product_analytics import product_questions
from bot.admin.unanswered import unanswered
from bot.database import tracker_engine
from bot.desk.accounts import Session
from bot.desk.console import admin_required, render
from bot.desk.rasa_client import RasaUnavailableError
from bot.desk.texts import REASON_LABELS
from bot.observability.metrics import desk_metrics
from bot.paths import PROJECT_ROOT
from bot.topic_titles import answer_pieces, fact_chips, intent_titles, save_title, title_of, topic_titles

admin = Blueprint("desk_admin", url_prefix="/admin")
TEMPLATES = Path(__file__).parent / "templates"  # the admin pages; the console's base.html frames them
SHOWN_GROUPS = 100  # the largest unanswered groups; a page of thousands helps nobody
NOTICES = {
    "saved": "Đã lưu vào bản nháp. Bấm “Huấn luyện & áp dụng” để bot dùng thay đổi.",
    "removed": "Đã xoá chủ đề khỏi bản nháp.",
    "discarded": "Đã bỏ mọi thay đổi chưa áp dụng.",
    "imported": "Đã nhập tệp CSV vào bản nháp.",
    "rolled_back": "Đã quay lại bản phát hành đã chọn.",
}


class RetrainRunner:
    """At most one background retrain per console, with its latest progress and outcome."""

    def __init__(self) -> None:
        self.progress: dict[str, Any] | None = None
        self.outcome: dict[str, Any] | None = None
        self.running = False
        # the loop keeps only a weak reference to a task: without this one, the follower could be collected
        # mid-run and the page would show the retrain running for ever
        self._followers: set[asyncio.Task] = set()

    async def start(self, actor: str) -> None:
        self.running, self.progress, self.outcome = True, {"stage": "prepare", "percent": 0, "label": "Bắt đầu"}, None
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.admin.retrain", "--as", actor, "--json",
            cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        follower = asyncio.get_running_loop().create_task(self._follow(process))
        self._followers.add(follower)
        follower.add_done_callback(self._followers.discard)

    async def _follow(self, process: asyncio.subprocess.Process) -> None:
        try:
            assert process.stdout is not None  # started with stdout=PIPE
            async for raw in process.stdout:
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                if event.get("event") == "progress":
                    self.progress = event
                elif event.get("event") == "done":
                    self.outcome = event
            await process.wait()
            if self.outcome is None:
                self.outcome = {"status": "failed", "message": "Quá trình huấn luyện dừng bất thường.", "worse": []}
            desk_metrics().retrain_finished(self.outcome.get("status", "failed"))
        finally:
            self.running = False


def _editor(request: Request) -> FaqEditor:
    return FaqEditor(draft.draft(), AuditLog(request.app.ctx.engine))


def _staff_view(request: Request) -> dict[str, Any]:
    """What the admin templates need to show titles and shop-fact chips instead of ids and placeholders."""
    data_dir = request.app.ctx.data_dir
    return {"titles": topic_titles(data_dir), "pieces": lambda text: answer_pieces(text, data_dir),
            "chips": lambda text: fact_chips(text, data_dir)}  # fmt: skip


def _lines(text: str) -> list[str]:
    return [line.strip().removeprefix("- ").strip() for line in text.splitlines() if line.strip()]


async def _model_opinions(request: Request, questions: list[str]) -> dict[str, dict[str, Any]]:
    """How the live model parses each question (empty when Rasa is unreachable)."""
    try:
        return {q: await request.app.ctx.desk.rasa.parse(q) for q in questions[:200]}
    except RasaUnavailableError:
        return {}


@admin.get("/faq")
@admin_required
async def faq_list(request: Request, session: Session) -> HTTPResponse:
    files = draft.draft()
    return render(
        request, "admin_faq.html", session=session, topics=files.topics(), changed=draft.has_changes(),
        notice=NOTICES.get(request.args.get("notice", "")), runner=request.app.ctx.retrain,
        releases=list(reversed(retrain.load_releases())), **_staff_view(request),
    )  # fmt: skip


@admin.get("/faq/new")
@admin_required
async def faq_new(request: Request, session: Session) -> HTTPResponse:
    prefill = Topic("", request.args.getlist("q") or [])
    version = draft.draft().version()
    return render(
        request, "admin_topic.html", session=session, topic=prefill, new=True, version=version, **_staff_view(request)
    )


@admin.get("/faq/<name:str>")
@admin_required
async def faq_topic(request: Request, session: Session, name: str) -> HTTPResponse:
    files = draft.draft()
    try:
        topic = files.topic(name)
    except UnknownTopicError:
        return render(request, "missing.html", status=404, session=session)
    return render(
        request, "admin_topic.html", session=session, topic=topic, new=False, version=files.version(),
        **_staff_view(request),
    )  # fmt: skip


# Sanic's router matches the static "/faq/new" before "/faq/<name>", so a new topic has its own POST route.
@admin.post("/faq/new")
@admin_required
async def faq_create(request: Request, session: Session) -> HTTPResponse:
    return await _save_topic(request, session, "new")


@admin.post("/faq/<name:str>")
@admin_required
async def faq_save(request: Request, session: Session, name: str) -> HTTPResponse:
    return await _save_topic(request, session, name)


async def _save_topic(request: Request, session: Session, name: str) -> HTTPResponse:
    form = request.form
    new = name == "new"
    topic = Topic((form.get("name") or "").strip() if new else name, _lines(form.get("questions") or ""),
                  form.get("answer") or "")  # fmt: skip
    editor = _editor(request)
    opinions = await _model_opinions(request, topic.examples)
    editor.parse = (lambda text: opinions.get(text) or {}) if opinions else None
    try:
        saved = editor.save_topic(session.agent.username, topic, form.get("version"), new=new)
    except (FaqRejectedError, FaqConflictError) as error:
        errors = error.findings.errors if isinstance(error, FaqRejectedError) else [str(error)]
        return render(
            request, "admin_topic.html", status=422, session=session, topic=topic, new=new,
            version=form.get("version"), errors=errors, title=form.get("title") or "", **_staff_view(request),
        )  # fmt: skip
    _save_title(request, session, topic.name, form.get("title"))
    if saved.warnings:
        return render(
            request, "admin_topic.html", session=session, topic=editor.files.topic(topic.name), new=False,
            version=saved.version, warnings=saved.warnings, saved=True, **_staff_view(request),
        )  # fmt: skip
    return response.redirect("/admin/faq?notice=saved")


def _save_title(request: Request, session: Session, topic: str, title: str | None) -> None:
    """Titles are for staff only, so they apply at once: no draft, no retrain (bot.topic_titles)."""
    if title is None or title.strip() == topic_titles(request.app.ctx.data_dir).get(topic, ""):
        return
    save_title(request.app.ctx.data_dir, topic, title)
    AuditLog(request.app.ctx.engine).record(session.agent.username, "faq_title", topic, message=title.strip())


@admin.post("/faq/<name:str>/delete")
@admin_required
async def faq_delete(request: Request, session: Session, name: str) -> HTTPResponse:
    try:
        _editor(request).remove_topic(session.agent.username, name, request.form.get("version"))
    except (FaqConflictError, UnknownTopicError):
        return response.redirect(f"/admin/faq/{name}")
    return response.redirect("/admin/faq?notice=removed")


@admin.post("/faq-discard")
@admin_required
async def faq_discard(request: Request, session: Session) -> HTTPResponse:
    draft.discard()
    AuditLog(request.app.ctx.engine).record(session.agent.username, "faq_discard", "draft")
    return response.redirect("/admin/faq?notice=discarded")


@admin.get("/faq.csv")
@admin_required
async def faq_export(request: Request, session: Session) -> HTTPResponse:
    return response.raw(
        _editor(request).export_csv(), content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="faq.csv"'},
    )  # fmt: skip


@admin.post("/faq-import")
@admin_required
async def faq_import(request: Request, session: Session) -> HTTPResponse:
    upload = request.files.get("file") if request.files else None
    if upload is None:
        return response.redirect("/admin/faq")
    try:
        _editor(request).import_csv(session.agent.username, upload.body, None)
    except FaqRejectedError as rejected:
        return render(
            request, "admin_faq.html", status=422, session=session, topics=draft.draft().topics(),
            changed=draft.has_changes(), errors=rejected.findings.errors, runner=request.app.ctx.retrain,
            releases=list(reversed(retrain.load_releases())), **_staff_view(request),
        )  # fmt: skip
    return response.redirect("/admin/faq?notice=imported")


@admin.post("/retrain")
@admin_required
async def start_retrain(request: Request, session: Session) -> HTTPResponse:
    runner: RetrainRunner = request.app.ctx.retrain
    if not runner.running:
        await runner.start(session.agent.username)
    return response.json({"started": True})


@admin.get("/retrain.json")
@admin_required
async def retrain_state(request: Request, session: Session) -> HTTPResponse:
    runner: RetrainRunner = request.app.ctx.retrain
    return response.json({"running": runner.running, "progress": runner.progress, "outcome": runner.outcome})


@admin.post("/releases/<number:int>/rollback")
@admin_required
async def rollback(request: Request, session: Session, number: int) -> HTTPResponse:
    try:
        await asyncio.to_thread(retrain.rollback, number, session.agent.username)
    except retrain.RetrainError as error:
        return response.json({"error": str(error)}, status=409)
    return response.redirect("/admin/faq?notice=rolled_back")


def _range(request: Request) -> tuple[date, date]:
    """The ``from``/``to`` filter (shop dates); the last 14 days by default."""
    today = datetime.now(SHOP_TIMEZONE).date()
    try:
        end = date.fromisoformat(request.args.get("to") or today.isoformat())
        start = date.fromisoformat(request.args.get("from") or (end - timedelta(days=13)).isoformat())
    except ValueError:
        start, end = today - timedelta(days=13), today
    if start > end:
        start, end = end, start
    return max(start, end - timedelta(days=366)), end


def _trackers(request: Request):
    return tracker_engine(request.app.ctx.tracker_db)


@admin.get("/analytics")
@admin_required
async def analytics_page(request: Request, session: Session) -> HTTPResponse:
    start, end = _range(request)
    figures = await asyncio.to_thread(analytics.compute, _trackers(request), request.app.ctx.engine, start, end)
    products = await asyncio.to_thread(product_questions, _trackers(request), start, end)
    titles, intents = topic_titles(request.app.ctx.data_dir), intent_titles(request.app.ctx.data_dir)
    topics = [*((title_of(titles, topic), n, topic) for topic, n in figures.top_faq),
              *((title_of(intents, intent), n, intent) for intent, n in figures.intent_topics.items())]  # fmt: skip
    return render(
        request, "admin_analytics.html", session=session, f=figures, products=products,
        faq_rows=sorted(topics, key=lambda row: -row[1]),
        reason_rows=[(REASON_LABELS.get(r, r), n) for r, n in figures.handoff_reasons.most_common()],
        csat_rows=[(f"{score} sao", n) for score, n in figures.csat_distribution.items()],
    )  # fmt: skip


@admin.get("/analytics.csv")
@admin_required
async def analytics_csv(request: Request, session: Session) -> HTTPResponse:
    start, end = _range(request)
    figures = await asyncio.to_thread(analytics.compute, _trackers(request), request.app.ctx.engine, start, end)
    return response.raw(
        analytics.daily_csv(figures), content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="analytics-{start}-{end}.csv"'},
    )  # fmt: skip


@admin.get("/unanswered")
@admin_required
async def unanswered_page(request: Request, session: Session) -> HTTPResponse:
    start, end = _range(request)
    found = await asyncio.to_thread(unanswered, _trackers(request), start, end)
    products = await asyncio.to_thread(product_questions, _trackers(request), start, end)
    return render(
        request, "admin_unanswered.html", session=session, groups=found.groups[:SHOWN_GROUPS], start=start, end=end,
        unknown_products=products.unknown,
        hidden_groups=max(0, len(found.groups) - SHOWN_GROUPS), ungrouped=found.ungrouped,
        topics=[t.name for t in draft.draft().topics()], notice=NOTICES.get(request.args.get("notice", "")),
        **_staff_view(request),
    )  # fmt: skip


@admin.post("/unanswered/add")
@admin_required
async def unanswered_add(request: Request, session: Session) -> HTTPResponse:
    """Adds a group's wordings to an existing topic (in the draft) and opens that topic."""
    name, texts = request.form.get("topic") or "", request.form.getlist("text") or []
    editor = _editor(request)
    try:
        topic = editor.files.topic(name)
        saved = editor.save_topic(
            session.agent.username, Topic(name, [*topic.examples, *texts], topic.answer), request.form.get("version")
        )
    except UnknownTopicError:
        return response.redirect("/admin/unanswered")
    except (FaqRejectedError, FaqConflictError) as error:
        errors = error.findings.errors if isinstance(error, FaqRejectedError) else [str(error)]
        topic = editor.files.topic(name)
        return render(
            request, "admin_topic.html", status=422, session=session, new=False, errors=errors,
            topic=Topic(name, [*topic.examples, *texts], topic.answer), version=editor.files.version(),
            **_staff_view(request),
        )  # fmt: skip
    return render(
        request, "admin_topic.html", session=session, topic=editor.files.topic(name), new=False,
        version=saved.version, warnings=saved.warnings, saved=True, **_staff_view(request),
    )  # fmt: skip


@admin.get("/audit")
@admin_required
async def audit_page(request: Request, session: Session) -> HTTPResponse:
    return render(request, "admin_audit.html", session=session, entries=AuditLog(request.app.ctx.engine).latest(200))
