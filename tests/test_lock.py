"""``make install`` installs requirements.lock without resolving (``pip install --no-deps``): the lock must
agree with pyproject.toml, or a fresh clone would run on versions the project never asked for, or without
a package it needs."""

import subprocess
import sys

import tomli
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.paths import PROJECT_ROOT


def _pinned() -> dict[str, str]:
    lines = (PROJECT_ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    pins = [line.split("==") for line in lines if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in pins}


def _asked_for() -> list[Requirement]:
    project = tomli.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    return [Requirement(text) for text in wanted]


def test_every_dependency_of_pyproject_is_pinned_at_a_version_it_allows() -> None:
    pinned = _pinned()
    wrong = {
        str(requirement): pinned.get(canonicalize_name(requirement.name), "missing")
        for requirement in _asked_for()
        if pinned.get(canonicalize_name(requirement.name)) not in requirement.specifier
    }
    assert not wrong, f"requirements.lock disagrees with pyproject.toml (run make lock): {wrong}"


def test_the_lock_pins_one_exact_version_per_package() -> None:
    lines = [line for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines() if line[:1] != "#"]
    assert all(line.count("==") == 1 and "@" not in line for line in lines if line)
    assert len(_pinned()) == len([line for line in lines if line])


def test_what_the_lock_installed_is_consistent() -> None:
    """Installed with --no-deps, only pip's own check would notice a package the lock forgot."""
    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
