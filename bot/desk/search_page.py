"""The console's search page (/search): conversations and tickets found by phone, order, ticket code or words.

What is searched and who sees what is bot/desk/search.py; this is the page around it, behind the same
session check as every console page.
"""

import asyncio
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bot.desk.accounts import Session
from bot.desk.console import agent_required, render
from bot.desk.search import DEFAULT_LIMIT, MAX_LIMIT, QueryRefusedError, read_query, search

search_page = Blueprint("desk_search")
MAX_PAGE = 50


def _number(request: Request, name: str, default: int, highest: int) -> int:
    """A small positive whole number from the query string; the default for anything else."""
    raw = request.args.get(name, "")
    return min(int(raw), highest) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 4 and int(raw) > 0 else default


@search_page.get("/search")
@agent_required
async def search_view(request: Request, session: Session) -> HTTPResponse:
    raw = (request.args.get("q") or "")[:1000]
    page, limit = _number(request, "page", 1, MAX_PAGE), _number(request, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    context: dict[str, Any] = {
        "session": session,
        "q": raw,
        "page": page,
        "limit": limit,
        "results": None,
        "refusal": None,
    }
    if not raw.strip():
        return render(request, "search.html", 200, **context)
    try:
        query = read_query(raw)
    except QueryRefusedError as refusal:
        return render(request, "search.html", 400, **{**context, "refusal": str(refusal)})
    results = await asyncio.to_thread(search, request.app.ctx.engine, session.agent, query, page, limit)
    return render(request, "search.html", 200, **{**context, "results": results})
