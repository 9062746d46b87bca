"""What the customer reads about the human desk, in one place.

The bot speaks as "mình" to "bạn" everywhere; agents sign with their own name.
"""

from datetime import datetime

from bot.desk.hours import DayOff, DeskConfig
from bot.privacy import mask_phone

# the customer's mood as the console shows it (neutral shows nothing)
MOOD_LABELS = {"angry": "Rất bực", "negative": "Không hài lòng"}

WEEKDAY_NAMES = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")

QUEUED = (
    "Mình đã chuyển cuộc trò chuyện sang nhân viên hỗ trợ, kèm những thông tin bạn đã cung cấp nên bạn không cần "
    "kể lại. {wait} Trong lúc chờ, bạn cứ nhắn thêm chi tiết, nhân viên sẽ đọc được. Nếu không muốn chờ nữa, "
    "bạn nhắn “huỷ” nhé."
)
POSITION = "Bạn đang ở vị trí số {position} trong hàng chờ, thời gian chờ dự kiến khoảng {minutes} phút."
POSITION_NO_ESTIMATE = "Bạn đang ở vị trí số {position} trong hàng chờ."
AGENT_JOINED = "Nhân viên {agent} đã tham gia cuộc trò chuyện và đang xem lại thông tin của bạn."
HANDED_BACK = "Nhân viên {agent} đã chuyển bạn lại cho trợ lý tự động. Bạn cần hỗ trợ gì thêm cứ nhắn mình nhé."
CLOSED = "Nhân viên {agent} đã kết thúc cuộc trò chuyện. Cảm ơn bạn đã liên hệ với shop!"
ASK_CSAT = "Bạn đánh giá cuộc trò chuyện vừa rồi thế nào? (1 = rất không hài lòng, 5 = rất hài lòng)"
CANCELLED = "Mình đã huỷ yêu cầu gặp nhân viên. Bạn cần hỗ trợ gì cứ nhắn mình nhé."
NOBODY_ACCEPTED = (
    "Xin lỗi bạn, hiện các nhân viên đều đang bận nên chưa ai nhận được cuộc trò chuyện. Mình đã tạo phiếu hỗ trợ "
    "{ticket_code} kèm nội dung cuộc trò chuyện. {how} Trong lúc đó, bạn vẫn có thể hỏi mình những câu khác."
)
# how the customer of an expired hand-off will hear back: only what can really reach them
CALL_BACK_BY_PHONE = "Nhân viên sẽ gọi lại cho bạn qua số {phone} {callback}."
ANSWER_IN_CHAT = "Nhân viên sẽ nhắn lại cho bạn ngay trong cuộc trò chuyện này {callback}."
ASK_PHONE = "Mình chưa có số điện thoại của bạn: bạn nhắn số điện thoại để nhân viên gọi lại nhé."
NOBODY_ACCEPTED_NO_TICKET = (
    "Xin lỗi bạn, hiện các nhân viên đều đang bận và hệ thống ghi nhận đang gặp sự cố. Bạn vui lòng gọi hotline "
    "hoặc nhắn lại sau ít phút nhé. Trong lúc đó, bạn vẫn có thể hỏi mình những câu khác."
)


def asks_phone(sender_id: str, contact_phone: str | None) -> bool:
    """Whether an expired hand-off's customer can only be reached by a phone they have not given: the web's."""
    return not contact_phone and not sender_id.startswith(("zalo:", "fb:"))


def nobody_accepted(ticket_code: str, callback: str, sender_id: str, contact_phone: str | None) -> str:
    """The expired hand-off's notice, promising a call back only by a phone or chat that reaches the customer."""
    if contact_phone:
        how = CALL_BACK_BY_PHONE.format(phone=mask_phone(contact_phone), callback=callback)
    elif not asks_phone(sender_id, contact_phone):
        how = ANSWER_IN_CHAT.format(callback=callback)
    else:
        how = ASK_PHONE
    return NOBODY_ACCEPTED.format(ticket_code=ticket_code, how=how)


def csat_buttons() -> list[dict[str, str]]:
    """Buttons 1-5 whose payload carries the score as an entity."""
    return [{"title": f"{score} ⭐", "payload": f'/rate_service{{"csat_score":"{score}"}}'} for score in range(1, 6)]


def wait_text(position: int, minutes: int | None) -> str:
    if minutes is None:
        return POSITION_NO_ESTIMATE.format(position=position)
    return POSITION.format(position=position, minutes=minutes)


def break_name(days_off: list[DayOff]) -> str:
    """What the customer calls the days the desk is shut: Tết, a public holiday, or the shop's own break."""
    names = [off.holiday for off in days_off if off.holiday]
    if any("Tết" in name and "Dương lịch" not in name for name in names):
        return "Tết"  # the lunar new year's days, "29 Tết" to "Mùng năm Tết Nguyên Đán"
    return "kỳ nghỉ lễ" if names else "kỳ nghỉ của shop"


def opening_phrase(config: DeskConfig, now: datetime, opening: datetime) -> str:
    """ "từ 08:00 ngày mai (26/11)", "sau Tết, từ 08:00 thứ Năm (11/02)" — when the desk opens next, in shop time."""
    local_now, local_opening = config.local(now), config.local(opening)
    days = (local_opening.date() - local_now.date()).days
    day = "hôm nay" if days == 0 else "ngày mai" if days == 1 else WEEKDAY_NAMES[local_opening.weekday()]
    when = f"từ {local_opening:%H:%M} {day} ({local_opening:%d/%m})"
    days_off = config.days_off_between(local_now.date(), local_opening.date())
    return f"sau {break_name(days_off)}, {when}" if days_off else when


def callback_promise(config: DeskConfig, now: datetime, response_time: str) -> str:
    """When the shop will call back: within the team's promised time, counted from the next opening."""
    if config.is_open(now):
        return f"trong vòng {response_time}"
    return f"{opening_phrase(config, now, config.next_opening(now))}, trong vòng {response_time}"


# Why a conversation reached the desk, as agents read it in the console.
REASON_LABELS = {
    "customer_request": "Khách yêu cầu gặp nhân viên",
    "not_understood": "Bot không hiểu khách (2 lần liên tiếp)",
    "complaint": "Khách phàn nàn, không hài lòng",
    "form_failed": "Khách không hoàn tất được yêu cầu với bot",
}
SLOT_LABELS = {
    "order_number": "Mã đơn hàng",
    "issue_type": "Loại vấn đề",
    "issue_description": "Mô tả vấn đề",
    "phone": "Số điện thoại",
    "email": "Email",
}


def file_caption(kind: str, name: str) -> str:
    """What the customer reads with an agent's file sent without a caption."""
    return f"Gửi bạn {'ảnh' if kind == 'image' else 'tệp'} {name}"
