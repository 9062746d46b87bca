"""A customer asking for no more order updates ("ngừng nhận thông báo"), or for them again, in their own words.

Matched on the whole message without diacritics, so "huy dang ky" and "hủy đăng ký" both count, while a longer
sentence that merely contains the words ("huỷ đăng ký thành viên giúp mình") goes to the NLU as usual.
"""

import re

from bot.text.normalize import nfc, strip_diacritics

STOP_PHRASES = (
    "ngung nhan thong bao", "dung nhan thong bao", "khong nhan tin nua", "khong nhan thong bao nua",
    "khong muon nhan thong bao", "khong muon nhan thong bao nua", "khong muon nhan tin nua", "huy dang ky",
    "huy dang ky nhan thong bao", "tat thong bao", "ngung gui thong bao", "dung gui thong bao", "dung gui tin nua",
)  # fmt: skip
START_PHRASES = ("nhan lai thong bao", "bat lai thong bao", "dang ky nhan thong bao")
_POLITE = re.compile(r"^(?:(?:cho )?(?:minh|toi|em|anh|chi)\s+)?|(?:\s+(?:nhe|nha|a|giup minh|shop))+$")
_NOISE = re.compile(r"[^\w\s]", re.UNICODE)


def _plain(text: str) -> str:
    plain = " ".join(_NOISE.sub(" ", strip_diacritics(nfc(text)).lower()).split())
    return _POLITE.sub("", plain).strip()


def asks_to_stop(text: str) -> bool:
    """The whole message asks for no more updates, give or take a polite word ("ngừng nhận thông báo nhé")."""
    return _plain(text) in STOP_PHRASES


def asks_to_resume(text: str) -> bool:
    """The whole message asks for the updates again ("nhận lại thông báo")."""
    return _plain(text) in START_PHRASES
