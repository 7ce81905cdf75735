"""The Python blocks of the README and docs/ at least parse; docs/adopting.md's are run by tests/adopter."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_python_block_parses(page: Path) -> None:
    for number, block in enumerate(PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")), start=1):
        try:
            ast.parse(textwrap.dedent(block))
        except SyntaxError as exc:
            pytest.fail(f"{page.name}, Python block {number}: {exc}")


def test_the_adoption_page_has_blocks_the_adopter_test_runs() -> None:
    text = (REPO_ROOT / "docs" / "adopting.md").read_text(encoding="utf-8")
    actions = re.findall(r"<!-- adopter: (\w+)", text)
    assert {"write", "append", "env", "run"} <= set(actions)
