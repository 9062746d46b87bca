"""Checks an FAQ topic before it is saved, with messages an admin can act on.

Errors block the change: an empty or duplicate question, a question that
already belongs to another topic or intent, one copied from the held-out
evaluation set (it would make the quality gate meaningless), an answer with
an unknown ``{section.key}`` fact. Warnings do not block: too few questions,
or a question the live model confidently files under another topic.

The training questions and the held-out sets are those of a data dir (the
settings' own unless given): data/nlu and data/eval in the project.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.admin.faq import FAQ_PREFIX, TOPIC_NAME, Topic
from bot.evaluation import heldout_files, load_examples, predicted_label
from bot.settings import current_settings
from bot.shop_policy import PolicyError, render_text
from bot.text.normalize import strip_diacritics

MIN_EXAMPLES, GOOD_EXAMPLES = 2, 10
MAX_EXAMPLE_CHARS = 300
CONFIDENT = 0.8

Parse = Callable[[str], dict[str, Any]]


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def example_key(text: str) -> str:
    """Two questions that differ only in case, spacing or diacritics are the same question."""
    return " ".join(strip_diacritics(text).lower().split())


def _owners(other_topics: list[Topic], data_dir: Path) -> dict[str, str]:
    """Which label every known training question belongs to (core intents and other FAQ topics)."""
    owners = {
        example_key(text): label
        for text, label in load_examples(*sorted((data_dir / "nlu").glob("*.yml")))
        if not label.startswith(FAQ_PREFIX)
    }
    for topic in other_topics:
        owners.update({example_key(text): FAQ_PREFIX + topic.name for text in topic.examples})
    return owners


def check_topic(
    topic: Topic, all_topics: list[Topic], parse: Parse | None = None, data_dir: Path | None = None
) -> Findings:
    """Everything wrong with saving ``topic`` next to ``all_topics`` (its old version is ignored)."""
    data_dir = data_dir or current_settings().data_dir
    findings = Findings()
    if not TOPIC_NAME.match(topic.name):
        findings.errors.append(
            f"Tên chủ đề '{topic.name}' không hợp lệ: dùng chữ thường không dấu, số và dấu gạch dưới (vd. goi_qua)."
        )
    owners = _owners([t for t in all_topics if t.name != topic.name], data_dir)
    heldout = {example_key(text) for text, _ in load_examples(*heldout_files(data_dir))}
    seen: set[str] = set()
    for example in topic.examples:
        key = example_key(example)
        if not key:
            findings.errors.append("Có câu hỏi trống.")
        elif len(example) > MAX_EXAMPLE_CHARS:
            findings.errors.append(f"Câu hỏi dài quá {MAX_EXAMPLE_CHARS} ký tự: “{example[:60]}…”.")
        elif key in seen:
            findings.errors.append(f"Câu hỏi bị trùng: “{example}”.")
        elif key in owners:
            findings.errors.append(f"Câu hỏi “{example}” đã thuộc về “{owners[key]}”.")
        elif key in heldout:
            findings.errors.append(f"Câu hỏi “{example}” nằm trong bộ kiểm tra chất lượng; hãy viết câu khác.")
        seen.add(key)
    if len(seen) < MIN_EXAMPLES:
        findings.errors.append(f"Chủ đề cần ít nhất {MIN_EXAMPLES} câu hỏi mẫu.")
    elif len(seen) < GOOD_EXAMPLES:
        findings.warnings.append(f"Chủ đề mới có {len(seen)} câu hỏi; nên có từ {GOOD_EXAMPLES} câu trở lên.")
    if not topic.answer.strip():
        findings.errors.append("Câu trả lời trống.")
    else:
        try:
            render_text(topic.answer, data_dir / "shop")
        except PolicyError as error:
            findings.errors.append(f"Câu trả lời: {error}")
    if parse is not None and findings.ok:
        for example in topic.examples:
            label, confidence = _prediction(parse(example))
            if label != FAQ_PREFIX + topic.name and confidence >= CONFIDENT and label != "nlu_fallback":
                findings.warnings.append(
                    f"Bot hiện tại xếp “{example}” vào “{label}” (độ tin cậy {confidence:.0%}); "
                    "nếu giữ câu này, hãy kiểm tra kết quả sau khi huấn luyện."
                )
    return findings


def _prediction(parse_result: dict[str, Any]) -> tuple[str, float]:
    label = predicted_label(parse_result)
    confidence = float((parse_result.get("intent") or {}).get("confidence") or 0)
    if label.startswith(FAQ_PREFIX):
        selector = parse_result.get("response_selector") or {}
        response = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
        confidence = min(confidence, float(response.get("confidence") or 0))
    return label, confidence
