"""A customer telling the bot its answer was wrong ("không phải", "sai rồi", "ý mình là…").

Shared by the analytics (a rejected answer is a turn the bot did not understand) and anything
that counts misunderstandings. Read on the words without diacritics, at the start of the
message, where customers put a correction; "không phải" later in a sentence is usually part
of a question ("có phải trả phí không phải không").
"""

import re

from bot.text.normalize import strip_diacritics

_REJECTION = re.compile(
    r"^(?:(?:ủa|ua|ơ|o|hả|ha|không|ko|k|shop|ad|bot)\W+)*"
    r"(?:khong phai|ko phai|k phai|hong phai|chang phai|sai roi|sai r\b|tra loi sai|tl sai|sai bet|"
    r"khong dung|ko dung|y (?:minh|em|toi|tui) la|minh hoi (?:cai )?khac|em hoi (?:cai )?khac|"
    r"toi hoi (?:cai )?khac|khong lien quan|ko lien quan|hoi mot dang tra loi mot neo|hoi 1 dang tra loi 1 neo)",
)


def is_rejection(text: str) -> bool:
    """Whether the message opens by saying the previous answer missed."""
    folded = " ".join(strip_diacritics(text).lower().split())
    return bool(_REJECTION.search(folded))
