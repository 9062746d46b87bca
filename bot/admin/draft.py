"""The admins' working copy of the FAQ.

Edits never touch the files the live bot was trained on: they go to a draft
under the var dir's admin/draft/ (made from the data dir's files on the first
edit). Only a retrain that passes the quality gate publishes the draft back into
the data dir, together with the model trained from it, so the data on disk
always matches the model being served.

Every function takes the settings that say where those folders are; without
them, the process's own (``current_settings``), which is how the console and the
``cskh`` command, started with their settings, find them.
"""

import os
import shutil
from pathlib import Path

from bot.admin.faq import FaqFiles
from bot.settings import Settings, current_settings


def admin_dir(settings: Settings | None = None) -> Path:
    """Where the admin tools keep their draft, releases and retrain workspaces."""
    return (settings or current_settings()).var_dir / "admin"


def draft_dir(settings: Settings | None = None) -> Path:
    return admin_dir(settings) / "draft"


def live(settings: Settings | None = None) -> FaqFiles:
    """The FAQ files the live model was trained on."""
    data_dir = (settings or current_settings()).data_dir
    return FaqFiles(data_dir / "nlu" / "faq.yml", data_dir / "shop" / "answers.yml")


def draft(settings: Settings | None = None) -> FaqFiles:
    """The draft, started from the live files when there is none."""
    folder = draft_dir(settings)
    files = FaqFiles(folder / "faq.yml", folder / "answers.yml")
    if not files.nlu_path.exists() or not files.answers_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        source = live(settings)
        shutil.copyfile(source.nlu_path, files.nlu_path)
        shutil.copyfile(source.answers_path, files.answers_path)
    return files


def has_changes(settings: Settings | None = None) -> bool:
    return draft(settings).version() != live(settings).version()


def discard(settings: Settings | None = None) -> None:
    """Drops every unpublished edit."""
    shutil.rmtree(draft_dir(settings), ignore_errors=True)


def publish(files: FaqFiles, settings: Settings | None = None) -> None:
    """Makes ``files`` the live FAQ (each file replaced atomically)."""
    target = live(settings)
    for source, destination in ((files.nlu_path, target.nlu_path), (files.answers_path, target.answers_path)):
        temporary = destination.with_name(f".{destination.name}.publish")
        shutil.copyfile(source, temporary)
        os.replace(temporary, destination)
