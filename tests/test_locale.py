"""The translation catalogues: every visitor-facing text translated, and compiled into the committed .mo files."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "django_deploykit"
LANGUAGES = ("de", "es", "fr")
# What msgfmt --statistics says of a catalogue with nothing fuzzy or untranslated.
COMPLETE_RE = re.compile(r"\d+ translated messages?\.\n")


def gnu_gettext(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        message = f"GNU gettext's {tool} is needed (the gettext package, see .ci/apt-packages.txt)."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def compile_po(po: Path, mo: Path) -> str:
    """Compile like compilemessages does, with msgfmt's checks; returns its statistics line."""
    result = subprocess.run(
        [gnu_gettext("msgfmt"), "--check", "--statistics", "-o", str(mo), str(po)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def catalogue(mo: Path) -> dict[Any, str]:
    with mo.open("rb") as file:
        return dict(gettext.GNUTranslations(file)._catalog)  # type: ignore[attr-defined]


def messages(mo: Path) -> dict[Any, str]:
    # The header ("" msgid) holds creation dates, which change with every makemessages.
    return {key: value for key, value in catalogue(mo).items() if key != ""}


class CatalogueTests:
    def test_french_german_and_spanish_are_shipped(self) -> None:
        assert sorted(p.name for p in (PACKAGE / "locale").iterdir()) == list(LANGUAGES)

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_po_is_complete_and_compiles_to_the_committed_mo(self, language: str, tmp_path: Path) -> None:
        folder = PACKAGE / "locale" / language / "LC_MESSAGES"
        statistics = compile_po(folder / "django.po", tmp_path / "django.mo")
        assert COMPLETE_RE.fullmatch(statistics), f"{language}: {statistics.strip()}"
        assert catalogue(tmp_path / "django.mo") == catalogue(folder / "django.mo")

    def test_every_marked_text_has_its_translations(self, tmp_path: Path) -> None:
        """makemessages over the current code changes no message: none missing, none stale."""
        gnu_gettext("xgettext")
        copy = tmp_path / "django_deploykit"
        shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
        env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "django",
                "makemessages",
                "--no-obsolete",
                *(f"-l{lang}" for lang in LANGUAGES),
            ],
            cwd=copy,
            env=env,
            capture_output=True,
            check=True,
            timeout=120,
        )
        for language in LANGUAGES:
            folder = "locale/" + language + "/LC_MESSAGES"
            statistics = compile_po(copy / folder / "django.po", tmp_path / f"{language}.mo")
            assert COMPLETE_RE.fullmatch(statistics), f"{language}: {statistics.strip()}"
            assert messages(tmp_path / f"{language}.mo") == messages(PACKAGE / folder / "django.mo")
