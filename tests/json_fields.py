"""The JSON fields the docs promise, read from their tables, so the tests hold the commands to them.

A table follows a heading ``#### JSON of `command` `` in a page of docs/; its first column names each
field: ``window.start`` is a field of an object, ``scopes[].phase`` one of each item of a list. ``error``
is there only when the command failed.
"""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import REPO_ROOT

_FIELD = re.compile(r"^\| `(?P<name>[^`]+)` \|")
ONLY_ON_FAILURE = "error"


def documented_fields(page: str, title: str) -> list[str]:
    """The fields of the table under ``#### JSON of TITLE`` in ``docs/PAGE``."""
    lines = (REPO_ROOT / "docs" / page).read_text(encoding="utf-8").splitlines()
    heading = f"#### JSON of {title}"
    assert heading in lines, f"docs/{page} has no heading {heading!r}"
    fields = []
    for line in lines[lines.index(heading) + 1 :]:
        if line.startswith("#"):
            break
        found = _FIELD.match(line)
        if found and found["name"] != "field":
            fields.append(found["name"])
    assert fields, f"docs/{page}: no field table under {heading!r}"
    return fields


def assert_documented(document: Any, page: str, title: str, *, failed: bool = False) -> None:
    """``document`` has every field the docs list for it; ``error`` exactly when ``failed``."""
    assert isinstance(document, dict), document
    for name in documented_fields(page, title):
        if name == ONLY_ON_FAILURE:
            assert (name in document) is failed, (name, document)
            continue
        assert _has(document, name), f"{title}: the JSON has no {name!r}, which docs/{page} lists: {document}"


def _has(data: Any, path: str) -> bool:
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = data.get(head[:-2]) if isinstance(data, dict) else None
        return isinstance(items, list) and all(_has(item, rest) for item in items)
    if not isinstance(data, dict) or head not in data:
        return False
    return _has(data[head], rest) if rest else True
