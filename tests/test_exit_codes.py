"""One exit-code vocabulary: the enum, its table in the docs, and reading an older slot's answers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from django_deploykit.exit_codes import MEANINGS, ExitCode, answer_of, meaning

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "django_deploykit"


class TableTests:
    def test_the_docs_table_is_the_enum(self) -> None:
        text = (REPO_ROOT / "docs" / "exit_codes.md").read_text(encoding="utf-8")
        rows = {
            int(code): name for code, name in re.findall(r"^\| (\d+) \| `([A-Z_]+)` \|", text, re.MULTILINE)
        }
        assert rows == {code.value: code.name for code in ExitCode}

    def test_every_code_has_a_meaning(self) -> None:
        assert set(MEANINGS) == set(ExitCode)

    def test_status_answers_have_their_own_range(self) -> None:
        answers = [
            code
            for code in ExitCode
            if code.name.startswith(("MIGRATIONS_", "MAINTENANCE_", "ROUNDTRIP_", "SERVER_CONFIG_"))
        ]
        assert all(10 <= code < 20 for code in answers)
        assert all(code < 10 for code in ExitCode if code not in answers)

    def test_command_pages_use_only_codes_of_the_table(self) -> None:
        known = {code.value for code in ExitCode}
        for page in ("deploy.md", "swap_live.md", "maintenance.md", "migrate_safe.md", "clear_cache.md"):
            text = (REPO_ROOT / "docs" / page).read_text(encoding="utf-8")
            for section in text.split("From the one table of every command")[1:]:
                table = section.split("\n\n")[1]
                codes = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
                assert codes, page
                assert codes <= known, page


class OneDefinitionTests:
    def test_no_module_writes_an_exit_code_as_a_number(self) -> None:
        """Every returncode= and exit code comparison names an ExitCode: a number would drift from the table."""
        found = []
        for path in PACKAGE.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "returncode"
                    and isinstance(node.value, ast.Constant)
                ):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{node.value.lineno}")
                if (
                    isinstance(node, ast.Compare)
                    and isinstance(node.left, ast.Attribute)
                    and node.left.attr == "exit_code"
                    and any(isinstance(c, ast.Constant) and c.value != 0 for c in node.comparators)
                ):
                    found.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
        assert found == []


class OlderSlotTests:
    @pytest.mark.parametrize(
        ("question", "code", "answer"),
        [
            ("migrate_safe --check", 0, ExitCode.OK),
            ("migrate_safe --check", 3, ExitCode.MIGRATIONS_PENDING),
            ("migrate_safe --check", 4, ExitCode.MIGRATIONS_BLOCKED),
            ("migrate_safe --check", 10, ExitCode.MIGRATIONS_PENDING),
            ("migrate_safe --check", 11, ExitCode.MIGRATIONS_BLOCKED),
            ("migrate_safe --check", 1, ExitCode.FAILED),
            ("maintenance status", 3, ExitCode.MAINTENANCE_ANNOUNCED),
            ("maintenance status", 4, ExitCode.MAINTENANCE_ACTIVE),
            ("maintenance status", 5, ExitCode.MAINTENANCE_ENDED),
            ("maintenance status", 14, ExitCode.MAINTENANCE_ACTIVE),
            ("maintenance status", 143, 143),
        ],
    )
    def test_both_vocabularies_are_read(self, question: str, code: int, answer: int) -> None:
        assert answer_of(question, code) == answer

    def test_meaning_of_a_child_code(self) -> None:
        assert meaning(6) == "another run holds the lock"
        assert meaning(143) == "stopped by a signal"
        assert meaning(99) == "see the log"
