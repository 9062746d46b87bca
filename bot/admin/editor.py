"""FAQ changes as the console and the CLI make them: validated, version-checked, audited.

CSV is the spreadsheet format admins exchange: columns ``topic,type,text``
with ``type`` = ``question`` or ``answer``, written as UTF-8 with a BOM so
Excel opens the Vietnamese text correctly. Questions can be customers' own
words, so cells a spreadsheet would run as formulas are escaped
(bot/admin/spreadsheet.py) and the import undoes exactly that.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from bot.admin.audit import AuditLog
from bot.admin.faq import FaqFiles, Topic, UnknownTopicError
from bot.admin.spreadsheet import csv_bytes, read_csv
from bot.admin.validation import Findings, Parse, check_topic

CSV_COLUMNS = ("topic", "type", "text")


class FaqRejectedError(ValueError):
    """The change was not saved; ``findings`` says why."""

    def __init__(self, findings: Findings) -> None:
        super().__init__("; ".join(findings.errors))
        self.findings = findings


@dataclass
class Saved:
    version: str
    warnings: list[str]


class FaqEditor:
    """Applies admins' FAQ changes to one ``FaqFiles`` (normally the draft), checked against the training
    data and held-out sets of ``data_dir`` (the settings' own when None)."""

    def __init__(
        self, files: FaqFiles, audit: AuditLog, parse: Parse | None = None, data_dir: Path | None = None
    ) -> None:
        self.files, self.audit, self.parse, self.data_dir = files, audit, parse, data_dir

    def save_topic(self, actor: str, topic: Topic, expected_version: str | None, *, new: bool = False) -> Saved:
        """Adds (``new``) or replaces a topic after validation."""
        topics = self.files.topics()
        exists = any(t.name == topic.name for t in topics)
        if new and exists:
            raise FaqRejectedError(Findings(errors=[f"Chủ đề “{topic.name}” đã có; hãy sửa chủ đề đó."]))
        if not new and not exists:
            raise UnknownTopicError(topic.name)
        topic = Topic(topic.name, [e.strip() for e in topic.examples if e.strip()] or [""], topic.answer.strip())
        findings = check_topic(topic, topics, self.parse, self.data_dir)
        if not findings.ok:
            raise FaqRejectedError(findings)
        version = self.files.save(topic, expected_version)
        self.audit.record(
            actor, "faq_add" if new else "faq_edit", topic.name, questions=len(topic.examples), answer=topic.answer
        )
        return Saved(version, findings.warnings)

    def remove_topic(self, actor: str, name: str, expected_version: str | None) -> str:
        version = self.files.remove(name, expected_version)
        self.audit.record(actor, "faq_remove", name)
        return version

    def export_csv(self) -> bytes:
        return csv_bytes(CSV_COLUMNS, (
            row
            for topic in self.files.topics()
            for row in [(topic.name, "answer", topic.answer)] + [(topic.name, "question", q) for q in topic.examples]
        ))  # fmt: skip

    def import_csv(self, actor: str, data: bytes, expected_version: str | None) -> Saved:
        """Replaces the topics named in the file (others stay); nothing is saved unless all are valid."""
        try:
            rows = read_csv(data)
        except (UnicodeDecodeError, csv.Error) as error:
            raise FaqRejectedError(Findings(errors=[f"Không đọc được tệp CSV: {error}"])) from error
        if not rows or set(CSV_COLUMNS) - set(rows[0]):
            raise FaqRejectedError(Findings(errors=["Tệp CSV cần các cột topic,type,text."]))
        incoming: dict[str, Topic] = {}
        errors: list[str] = []
        for number, row in enumerate(rows, start=2):
            name, kind, text = (row.get("topic") or "").strip(), (row.get("type") or "").strip(), row.get("text") or ""
            topic = incoming.setdefault(name, Topic(name))
            if kind == "question":
                topic.examples.append(text.strip())
            elif kind == "answer":
                topic.answer = text.strip()
            else:
                errors.append(f"Dòng {number}: cột type phải là question hoặc answer.")
        existing = {t.name: t for t in self.files.topics()}
        proposed = [t for name, t in existing.items() if name not in incoming] + list(incoming.values())
        warnings: list[str] = []
        for topic in incoming.values():
            findings = check_topic(topic, proposed, self.parse, self.data_dir)
            errors += [f"{topic.name}: {e}" for e in findings.errors]
            warnings += [f"{topic.name}: {w}" for w in findings.warnings]
        if errors:
            raise FaqRejectedError(Findings(errors=errors))
        version = expected_version
        for topic in incoming.values():
            version = self.files.save(topic, version)
        self.audit.record(actor, "faq_import", ",".join(incoming), topics=len(incoming))
        return Saved(version or self.files.version(), warnings)
