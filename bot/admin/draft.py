"""The admins' working copy of the FAQ.

Edits never touch the files the live bot was trained on: they go to a draft
under var/admin/draft/ (made from data/ on the first edit). Only a retrain
that passes the quality gate publishes the draft back into data/, together
with the model trained from it, so the data on disk always matches the model
being served.
"""

import os
import shutil

from bot.admin.faq import FaqFiles
from bot.paths import DATA_DIR, SHOP_DIR, VAR_DIR

LIVE_FILES = (DATA_DIR / "nlu" / "faq.yml", SHOP_DIR / "answers.yml")
DRAFT_DIR = VAR_DIR / "admin" / "draft"


def live() -> FaqFiles:
    return FaqFiles(*LIVE_FILES)


def draft() -> FaqFiles:
    """The draft, started from the live files when there is none."""
    files = FaqFiles(DRAFT_DIR / "faq.yml", DRAFT_DIR / "answers.yml")
    if not files.nlu_path.exists() or not files.answers_path.exists():
        DRAFT_DIR.mkdir(parents=True, exist_ok=True)
        for source, target in zip(LIVE_FILES, (files.nlu_path, files.answers_path), strict=True):
            shutil.copyfile(source, target)
    return files


def has_changes() -> bool:
    return draft().version() != live().version()


def discard() -> None:
    """Drops every unpublished edit."""
    shutil.rmtree(DRAFT_DIR, ignore_errors=True)


def publish(files: FaqFiles) -> None:
    """Makes ``files`` the live FAQ (each file replaced atomically)."""
    for source, target in zip((files.nlu_path, files.answers_path), LIVE_FILES, strict=True):
        temporary = target.with_name(f".{target.name}.publish")
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
