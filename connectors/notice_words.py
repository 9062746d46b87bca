"""A customer's "ngừng nhận thông báo" (or "nhận lại thông báo"), answered by the channel before the NLU.

Order updates are the shop writing first, so stopping them must work whatever the conversation is doing (a form,
a hand-off): the words are recognised on the whole message (bot/text/opt_out.py), the wish is stored in the
project database (bot/order_updates.py ``remember_wish``), and the customer is told at once. Every channel's turn
passes here (connectors/core.py ``take_turn``; the REST webhook calls ``notice_wish_reply``).
"""

import asyncio
import logging

from rasa.core.channels.channel import UserMessage

from bot.database import database_url, engine_for
from bot.order_updates import remember_wish
from bot.privacy import mask_id
from bot.text.opt_out import asks_to_resume, asks_to_stop

logger = logging.getLogger(__name__)

STOPPED = (
    "Dạ, mình đã ghi nhận: từ giờ shop sẽ không gửi thông báo về đơn hàng cho bạn nữa. "
    "Khi nào muốn nhận lại, bạn nhắn “nhận lại thông báo” nhé."
)
RESUMED = "Dạ, mình đã bật lại thông báo về đơn hàng cho bạn. Khi đơn có thay đổi, mình sẽ nhắn bạn ngay nhé."


async def notice_wish_reply(sender: str, text: str) -> str | None:
    """The confirmation when ``text`` asks to stop or resume order updates (the wish is stored first), else None."""
    if asks_to_stop(text):
        wants, reply = False, STOPPED
    elif asks_to_resume(text):
        wants, reply = True, RESUMED
    else:
        return None
    await asyncio.to_thread(remember_wish, engine_for(database_url()), sender, wants_updates=wants)
    logger.info("order updates %s for %s", "resumed" if wants else "stopped", mask_id(sender))
    return reply


async def answered_notice_wish(message: UserMessage) -> bool:
    """True when the message was such a wish and the customer has been answered on its channel."""
    reply = await notice_wish_reply(message.sender_id, message.text or "")
    if reply is None:
        return False
    await message.output_channel.send_response(message.sender_id, {"text": reply})
    return True
