"""docs/settings.md is the complete settings reference: one row per declared setting, with its default.

The rule for a row: ``| `DEPLOYKIT_NAME` | `<default>` | meaning |``, where the default cell is one
Python literal in backticks that evaluates to the declared default, of the same type (``1800.0``
for a float, ``("blue", "green")`` for a tuple). A new setting, a removed one or a changed default
that the reference does not follow fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from django_deploykit.conf import DeployKitSettings
from tests.deployment import REPO_ROOT

REFERENCE = REPO_ROOT / "docs" / "settings.md"
ROW = re.compile(r"^\| `(DEPLOYKIT_[A-Z0-9_]+)` \| (.*?) \|", re.MULTILINE)
LITERAL_CELL = re.compile(r"`([^`]+)`")


def rows(path: Path) -> list[tuple[str, str]]:
    """(setting name, default cell) of each table row of ``path`` that starts with a setting name."""
    return ROW.findall(path.read_text(encoding="utf-8"))


def evaluate(literal: str, where: str) -> Any:
    try:
        return ast.literal_eval(literal)
    except (ValueError, SyntaxError) as exc:
        raise AssertionError(f"{where}: `{literal}` is not a Python literal.") from exc


class SettingsReferenceTests:
    def test_every_declared_setting_has_one_row_with_its_default(self) -> None:
        found: dict[str, list[str]] = {}
        for name, cell in rows(REFERENCE):
            found.setdefault(name, []).append(cell)
        for name, setting in DeployKitSettings.declared().items():
            expected = f"| `{name}` | `{setting.default!r}` | meaning |"
            assert name in found, f"docs/settings.md has no row for {name}; add {expected}"
            assert len(found[name]) == 1, f"docs/settings.md has {len(found[name])} rows for {name}"
            cell = found[name][0]
            match = LITERAL_CELL.fullmatch(cell)
            assert match, f"The default of {name} is {cell!r}; write only the Python value: {expected}"
            value = evaluate(match.group(1), f"docs/settings.md, {name}")
            assert (type(value), value) == (type(setting.default), setting.default), (
                f"docs/settings.md gives {cell} as the default of {name}; conf.py says {setting.default!r}."
            )

    def test_the_reference_has_no_row_for_an_undeclared_setting(self) -> None:
        declared = DeployKitSettings.declared()
        undeclared = [name for name, _ in rows(REFERENCE) if name not in declared]
        assert undeclared == [], f"docs/settings.md documents settings conf.py does not declare: {undeclared}"

    def test_the_other_pages_tables_agree_with_the_defaults(self) -> None:
        # Pages that repeat a setting in their own table may add words after the value, but the
        # value itself must be the declared default.
        declared = DeployKitSettings.declared()
        pages = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
        disagreements = []
        for page in pages:
            if page == REFERENCE:
                continue
            for name, cell in rows(page):
                match = LITERAL_CELL.match(cell)
                if name not in declared or not match:
                    continue
                value = evaluate(match.group(1), f"{page.relative_to(REPO_ROOT)}, {name}")
                if value != declared[name].default:
                    disagreements.append(f"{page.relative_to(REPO_ROOT)}: {name} {cell}")
        assert disagreements == [], disagreements
