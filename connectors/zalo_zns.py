"""Zalo Notification Service: an order update to a Zalo customer outside the OA's consultation window.

``POST https://business.openapi.zalo.me/message/template`` with the OA's ``access_token`` header and
``{"phone": "84…", "template_id", "template_data": {...}, "tracking_id"}`` → ``{"error": 0, "data": {"msg_id",
"sent_time", "quota"}}``; like the OA API it answers errors with HTTP 200 and a non-zero ``error``. The template
is one Zalo approved for the OA; its id and parameters per order status are configuration (notices.yml).

Error codes from Zalo's table (zalo.cloud/zns/guidelines/handle-error-code): -100 unknown (retried), -108 phone
invalid, -109 template id invalid, -111 template data empty, -112 template data invalid, -114 user cannot
receive ZNS; -115 out of quota and -124 invalid access token are reported by community clients (unconfirmed).
The phone is logged masked (bot/privacy.py).
"""

import logging
from typing import Any

from bot.privacy import mask_phone
from connectors.outbox import DELIVERED, Attempt, refused, retry_later
from connectors.zalo_client import (
    EXPIRED_TOKEN,
    INVALID_TOKEN,
    RATE_LIMITED,
    RATE_LIMITED_REASON,
    TOKEN_NOT_REFRESHED,
    TOKEN_REFUSED,
    UNREACHED_REASON,
    NoTokenError,
    UnreachedError,
    ZaloClient,
)

logger = logging.getLogger(__name__)

PATH = "/message/template"
UNKNOWN_ERROR, INVALID_PHONE, INVALID_TEMPLATE, EMPTY_DATA, INVALID_DATA = -100, -108, -109, -111, -112
CANNOT_RECEIVE, OUT_OF_QUOTA, ZNS_INVALID_TOKEN = -114, -115, -124
TOKEN_ERRORS = (ZNS_INVALID_TOKEN, INVALID_TOKEN, EXPIRED_TOKEN)
# what staff read on /admin/notifications next to a ZNS message that failed
REFUSALS = {
    INVALID_PHONE: "Zalo báo số điện thoại của đơn không hợp lệ cho ZNS.",
    INVALID_TEMPLATE: "Mẫu ZNS không tồn tại hoặc chưa được duyệt (kiểm tra template_id trong notices.yml).",
    EMPTY_DATA: "Thiếu tham số của mẫu ZNS (kiểm tra params trong notices.yml).",
    INVALID_DATA: "Tham số của mẫu ZNS không hợp lệ (kiểm tra params trong notices.yml).",
    CANNOT_RECEIVE: "Khách không nhận được ZNS (tài khoản, tuỳ chọn nhận ZNS hoặc phiên bản Zalo).",
    OUT_OF_QUOTA: "Tài khoản ZNS của OA đã hết hạn mức hoặc số dư.",
}
UNKNOWN_REASON = "Zalo chưa gửi được tin ZNS (lỗi không xác định)."


async def send_template(client: ZaloClient, zns: dict[str, Any]) -> Attempt:
    """One ZNS template message, as the outbox stored it; how it went, for the outbox to retry or not."""
    phone = mask_phone(str(zns.get("phone", "")))

    async def call(access_token: str) -> int:
        answer = await client.post_business(PATH, access_token, zns)
        try:
            return int(answer.get("error", 0))
        except (TypeError, ValueError):
            raise UnreachedError("zalo:unreadable") from None

    try:
        error = await client.with_token(call, TOKEN_ERRORS)
    except NoTokenError as missing:
        return (
            refused("zns:token", TOKEN_REFUSED) if missing.permanent else retry_later("zns:token", TOKEN_NOT_REFRESHED)
        )
    except UnreachedError as unreached:
        return retry_later(unreached.code, UNREACHED_REASON)
    if error == 0:
        logger.info("zns: template %s sent to %s", zns.get("template_id"), phone)
        return DELIVERED
    if error == UNKNOWN_ERROR:
        return retry_later(f"zns:{error}", UNKNOWN_REASON)
    if error == RATE_LIMITED:
        return retry_later(f"zns:{error}", RATE_LIMITED_REASON, 1.0)
    logger.warning("zns: template %s to %s refused with error %s", zns.get("template_id"), phone, error)
    if error in TOKEN_ERRORS:
        return refused(f"zns:{error}", TOKEN_REFUSED)
    return refused(f"zns:{error}", REFUSALS.get(error, f"Zalo từ chối tin ZNS (mã lỗi {error})."))
