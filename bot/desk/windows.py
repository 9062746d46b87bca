"""The platforms' messaging windows at the desk: shown on a Zalo or Messenger conversation, and checked before an
agent's reply or file leaves, so a message the platform (or the shop's policy) would refuse is refused here, with
the reason, instead of failing later as "chưa gửi được" (bot/messaging_windows.py).
"""

import asyncio

from sanic import Request, response
from sanic.response import HTTPResponse

from bot.desk.queue import Handoff
from bot.messaging_windows import PREFIXED_CHANNELS, LastInteractions, Window
from bot.senders import platform_id


async def window_of(request: Request, handoff: Handoff) -> Window | None:
    """Where an agent's message to this conversation's customer stands now; None on channels without a window."""
    if handoff.channel not in PREFIXED_CHANNELS:
        return None
    customer = platform_id(handoff.channel, handoff.sender_id)
    interactions = LastInteractions(request.app.ctx.engine)
    return await asyncio.to_thread(interactions.window, handoff.channel, customer, request.app.ctx.window_rules)


async def refused_before_sending(request: Request, handoff: Handoff) -> HTTPResponse | None:
    """409 with the reason when the window (or the shop's policy) does not let an agent's message through."""
    window = await window_of(request, handoff)
    if window is None or not window.blocked:
        return None
    return response.json({"error": window.notice, "window": window.state}, status=409)
