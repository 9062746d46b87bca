"""How upset a customer's message sounds: a rule-based scorer for Vietnamese chat.

Why rules and not a model: no Vietnamese sentiment model ships with Rasa or the
packages already installed, nothing may be downloaded at run time, and the
published ones (PhoBERT fine-tunes, trained on product reviews) cost hundreds
of MB and a second per message on this 2-core machine while judging *product*
opinions, not a customer losing patience with a shop. The signals that matter
here are few and explicit: frustration words, delay and "nobody answers"
phrases, intensifiers ("quá", "lắm", "vãi", "hoài", "mãi"), "!!!", ALL CAPS
and swearing, including teencode ("vl", "đm", "dm"). Rules read them the same
with or without diacritics and can be explained to an agent ("bực", "!!!").

Matching is per word: a word the customer wrote with diacritics must match the
cue exactly ("chán" is a cue, "chăn" — a blanket — is not); a word written
without any ("chan") matches the cue's bare form. A negation just before a
positive word ("không hài lòng", "ko tốt") makes it a complaint.
"""

import re
from dataclasses import dataclass, field

from bot.text.normalize import normalize_syllable, strip_diacritics

NEUTRAL, NEGATIVE, ANGRY = "neutral", "negative", "angry"
NEGATIVE_AT = 2.0
ANGRY_AT = 4.0

# cue phrase -> weight; a phrase is matched word by word (see the module docstring)
FRUSTRATION: dict[str, float] = {
    "bực": 2, "bực mình": 2, "bực bội": 2, "bức xúc": 2, "tức": 2, "tức giận": 2, "ức chế": 2, "cáu": 2,
    "điên": 2, "phát điên": 2, "thất vọng": 2, "chán": 2, "ngán": 2, "tệ": 2, "tệ hại": 2, "tồi": 2,
    "kém": 1.5, "dở": 1.5, "vô trách nhiệm": 2, "quá đáng": 2, "lừa đảo": 3, "lừa": 2, "lật lọng": 2,
    "coi thường": 2, "hứa suông": 2, "làm ăn": 1, "kiểu gì": 1.5, "hết chịu nổi": 3, "chịu hết nổi": 3,
    "không chịu nổi": 3, "hết nói nổi": 3, "bó tay": 2, "mệt mỏi": 2, "phiền": 1.5, "khó chịu": 2,
    "vô lý": 2, "thái độ": 1.5, "không chấp nhận": 2, "chậm chạp": 2, "cẩu thả": 2, "bực quá": 1,
    "không hài lòng": 3, "không ổn": 1.5, "trời ơi": 1, "thật sự": 0.5, "thiệt sự": 0.5, "sai lầm": 1.5,
    "không bao giờ mua": 3, "lần cuối": 1.5, "bóc phốt": 3, "phốt": 2, "tẩy chay": 3, "báo công an": 3,
    "kiện": 2, "bồi thường": 1.5, "đòi tiền": 1.5, "mất tiền": 1.5, "bùng": 2, "ngu": 3, "tồi tệ": 3,
    "vớ vẩn": 2, "tào lao": 2, "nhảm": 2, "ăn cướp": 3, "láo": 3, "bị lừa": 3, "lừa khách": 3,
    # not frustration: "tức là" (that is), "tức thì" (at once)
    "tức là": 0, "tức thì": 0, "tức khắc": 0,
}  # fmt: skip
# a problem that dragged on: waiting, nobody answering, asking again and again
DELAY: dict[str, float] = {
    "bao lâu": 0, "lâu": 1, "lâu quá": 2, "lâu lắm": 2, "lâu vậy": 2, "lâu thế": 2, "lâu ghê": 2, "lâu vãi": 2,
    "lâu vl": 2, "lâu z": 2, "lâu v": 2, "chậm": 1.5, "trễ": 1.5, "muộn": 1, "mãi": 1, "hoài": 1, "mãi mà": 1.5,
    "chờ mãi": 2,
    "đợi mãi": 2, "chờ hoài": 2, "đợi hoài": 2, "không ai": 1.5, "chẳng ai": 1.5, "không thấy ai": 2,
    "không ai trả lời": 2, "không ai nghe": 2, "không ai nghe máy": 2, "không trả lời": 1.5,
    "không nghe máy": 2, "im re": 2, "im lặng": 1, "biệt tăm": 2, "mất tích": 1.5, "hết lần này": 2,
    "bao nhiêu lần": 1.5, "mấy lần rồi": 2, "nhắn hoài": 1, "gọi hoài": 1, "cả tuần": 1, "cả tháng": 1.5,
    "vẫn chưa": 1, "tới giờ vẫn": 1.5, "đến giờ vẫn": 1.5, "tới giờ chưa": 1.5, "đến giờ chưa": 1.5,
}  # fmt: skip
# swearing: angry on its own
SWEARING: dict[str, float] = {
    "đm": 4, "dm": 4, "đmm": 4, "dmm": 4, "đcm": 4, "dcm": 4, "vcl": 4, "vkl": 4, "vđ": 3, "clgt": 4,
    "đéo": 4, "đếch": 3, "cc": 3, "mẹ kiếp": 4, "vãi lồn": 4, "vl": 2, "vcc": 4, "đồ ngu": 4,
}  # fmt: skip
# make an upset message more upset; on their own they say nothing ("đẹp quá", "phí ship nhiêu v")
INTENSIFIERS = frozenset({"quá", "lắm", "vãi", "ghê", "thật", "luôn", "cực", "rất", "vô cùng", "quá trời", "kinh"})
NEGATIONS = frozenset({"không", "chẳng", "chả", "chưa", "đâu có"})
# teencode for "không", read as the word itself so "ko ai trả lời" is "không ai trả lời"
NOT_TEENCODE = frozenset({"ko", "k", "kh", "khg", "hok", "hông", "khum", "hem", "kg", "khong"})
# positive words that a negation turns into a complaint ("không hài lòng", "chẳng ra gì")
NEGATED_POSITIVES = frozenset({"hài lòng", "tốt", "ổn", "được việc", "ra gì", "uy tín", "chuyên nghiệp"})
# a human asked for, as in "cho gặp nhân viên", "chuyển người thật"
PERSON_WORDS = (
    "nhân viên", "nv", "người thật", "con người", "người phụ trách", "admin", "ad", "quản lý", "tư vấn viên", "cskh",
)  # fmt: skip
PERSON_VERBS = ("gặp", "nói chuyện", "chuyển", "gọi", "kết nối")
NO_NEED = ("không cần", "khỏi", "chưa cần")

# single cue words that, typed without diacritics, are also everyday words ("chan" is also "chăn"
# a blanket and "chân" a leg, "toi" is "tôi", "tối", "tới", "te" "tê"): they count only right beside an
# intensifier where Vietnamese puts one ("rat toi", "toi qua"); a window of words around them read "shop lam
# viec toi may gio" ("làm việc tới mấy giờ") as "tồi lắm"
AMBIGUOUS_BARE = frozenset({
    "chan", "te", "toi", "kem", "do", "tuc", "cau", "dien", "ngan", "ngu", "kien", "lau", "cham", "lua",
})  # fmt: skip
_INTENSE_BEFORE_BARE = frozenset({"rat", "qua", "that", "cuc"})
_INTENSE_AFTER_BARE = frozenset({
    "qua", "lam", "vai", "ghe", "the", "vay", "v", "z", "vl", "vcl", "luon", "kinh", "that",
})  # fmt: skip

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


@dataclass(frozen=True)
class Mood:
    """The mood of one message: ``label`` is neutral, negative or angry; ``cues`` say why."""

    label: str
    score: float
    cues: tuple[str, ...] = field(default=())

    @property
    def upset(self) -> bool:
        return self.label != NEUTRAL

    def as_dict(self) -> dict:
        return {"label": self.label, "score": round(self.score, 2), "cues": list(self.cues)}


def _words(text: str) -> list[tuple[str, str]]:
    """Each word as (normalized with diacritics, without diacritics)."""
    words = [normalize_syllable(m.group(0)) for m in _WORD.finditer(text)]
    return [("không", "khong") if w in NOT_TEENCODE else (w, strip_diacritics(w)) for w in words]


# a lexicon phrase: its words as written, the same words without diacritics, and the phrase
_Phrase = tuple[tuple[str, ...], tuple[str, ...], str]


def _matches(words: list[tuple[str, str]], start: int, phrase: tuple[str, ...], bare_phrase: tuple[str, ...]) -> bool:
    if start + len(phrase) > len(words):
        return False
    if len(phrase) == 1 and words[start][0] == words[start][1] in AMBIGUOUS_BARE:
        before = words[start - 1][1] if start else ""
        after = words[start + 1][1] if start + 1 < len(words) else ""
        if before not in _INTENSE_BEFORE_BARE and after not in _INTENSE_AFTER_BARE:
            return False
    for (written, bare), cue, bare_cue in zip(words[start : start + len(phrase)], phrase, bare_phrase, strict=True):
        plain = written == bare  # the customer typed no diacritics in this word
        if (bare != bare_cue) if plain else (written != cue):
            return False
    return True


def _split(lexicon: dict[str, float] | frozenset[str] | tuple[str, ...]) -> dict[str, list[_Phrase]]:
    """The phrases by their first word without diacritics (a phrase can only match where that word is), longest
    first: a message is looked up word by word instead of against the whole lexicon (the mood component ran on
    every message)."""
    phrases = sorted(((tuple(p.split()), p) for p in lexicon), key=lambda item: -len(item[0]))
    by_first: dict[str, list[_Phrase]] = {}
    for words, name in phrases:
        bare = tuple(strip_diacritics(w) for w in words)
        by_first.setdefault(bare[0], []).append((words, bare, name))
    return by_first


_FRUSTRATION, _DELAY, _SWEARING = _split(FRUSTRATION), _split(DELAY), _split(SWEARING)
_INTENSIFIERS, _NEGATIONS, _POSITIVES = _split(INTENSIFIERS), _split(NEGATIONS), _split(NEGATED_POSITIVES)
_PERSON_WORDS, _PERSON_VERBS, _NO_NEED = _split(PERSON_WORDS), _split(PERSON_VERBS), _split(NO_NEED)


def _find(words: list[tuple[str, str]], lexicon: dict[str, list[_Phrase]]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, phrase) hits, longest phrase first at each position."""
    hits, index = [], 0
    while index < len(words):
        for phrase, bare_phrase, name in lexicon.get(words[index][1], ()):
            if _matches(words, index, phrase, bare_phrase):
                hits.append((index, index + len(phrase), name))
                index += len(phrase)
                break
        else:
            index += 1
    return hits


def _shouting(text: str) -> bool:
    letters = _LETTERS.findall(text)
    upper_words = [w for w in text.split() if len(w) > 1 and w.isupper()]
    return len(letters) >= 8 and len(upper_words) >= 2 and sum(c.isupper() for c in letters) / len(letters) > 0.6


def score_mood(text: str) -> Mood:
    """Scores one message; neutral questions ("phí ship bao nhiêu") score 0."""
    words = _words(text)
    cues: list[str] = []
    score = 0.0
    covered: set[int] = set()
    for lexicon, weights in ((_SWEARING, SWEARING), (_FRUSTRATION, FRUSTRATION), (_DELAY, DELAY)):
        for start, end, phrase in _find(words, lexicon):
            if covered & set(range(start, end)):
                continue
            covered |= set(range(start, end))
            if not weights[phrase]:
                continue
            score += weights[phrase]
            cues.append(phrase)
    negations = {end for _, end, _ in _find(words, _NEGATIONS)}
    for start, end, phrase in _find(words, _POSITIVES):
        if start in negations and not covered & set(range(start, end)):
            score += 3
            cues.append(f"không {phrase}")
    amplifiers = [phrase for _, _, phrase in _find(words, _INTENSIFIERS)]
    if text.count("!") >= 2 or "!?" in text or "?!" in text:
        amplifiers.append("!!!")
    if _shouting(text):
        amplifiers.append("CHỮ HOA")
    if score > 0 and amplifiers:
        score += min(len(amplifiers), 3) * 0.75
        cues += amplifiers
    elif "CHỮ HOA" in amplifiers and "!!!" in amplifiers:
        score += NEGATIVE_AT  # shouting with exclamation marks is upset even without a word for it
        cues += amplifiers
    label = ANGRY if score >= ANGRY_AT else NEGATIVE if score >= NEGATIVE_AT else NEUTRAL
    return Mood(label, score, tuple(cues))


def asks_for_person(text: str) -> bool:
    """Whether the message asks for a human ("cho gặp nhân viên"), not declines one ("khỏi gặp nhân viên")."""
    words = _words(text)
    verbs = _find(words, _PERSON_VERBS)
    people = _find(words, _PERSON_WORDS)
    declined = {end for _, end, _ in _find(words, _NO_NEED)}
    return any(
        0 < p_start - v_end <= 3 or p_start == v_end
        for v_start, v_end, _ in verbs
        if v_start not in declined
        for p_start, _, _ in people
    )
