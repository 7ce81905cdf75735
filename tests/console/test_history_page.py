"""The history page: newest first, filtered by result, kind, ref and who, a page at a time."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest
from django.test import Client

from django_deploykit.console.history_page import PAGE_SIZE, Filters, page_of
from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import DeployRoot
from tests.console.conftest import CONSOLE


def _record(index: int, **fields: object) -> history.HistoryRecord:
    values: dict[str, object] = {
        "kind": "deploy",
        "result": "ok",
        "started_at": f"2026-11-{1 + index % 28:02d}T10:00:00+00:00",
        "duration": 12.5,
        "id": f"20261101T{index:06d}Z-{index % 0xFFFFFF:06x}",
        "user": "alice",
        "details": {"ref": "main"},
    }
    values.update(fields)
    return history.HistoryRecord(**values)  # type: ignore[arg-type]


class HistoryPageTests:
    def test_newest_first_a_page_at_a_time(self, root: DeployRoot) -> None:
        for index in range(PAGE_SIZE + 5):
            history.append(root, _record(index))
        first = page_of(root, Filters(), 1)
        assert first.total == PAGE_SIZE + 6
        assert first.pages == 2
        assert first.rows[0].id == _record(PAGE_SIZE + 4).id
        second = page_of(root, Filters(), 2)
        assert len(second.rows) == 6
        assert second.rows[-1].kind == "init"
        assert page_of(root, Filters(), 99).number == 2

    def test_filters(self, root: DeployRoot) -> None:
        history.append(root, _record(1, result="failed", user="bob (console, as www-data)"))
        history.append(root, _record(2, details={"ref": "release-7"}))
        history.append(root, _record(3, kind="rollback"))
        assert [r.id for r in page_of(root, Filters(result="failed"), 1).rows] == [_record(1).id]
        assert [r.id for r in page_of(root, Filters(ref="release"), 1).rows] == [_record(2).id]
        assert [r.id for r in page_of(root, Filters(who="BOB"), 1).rows] == [_record(1).id]
        assert [r.id for r in page_of(root, Filters(kind="rollback"), 1).rows] == [_record(3).id]

    def test_unknown_filter_values_are_dropped(self) -> None:
        filters = Filters.from_query(
            {"result": "<script>", "kind": "nope", "ref": " main ", "who": "x" * 500}
        )
        assert (filters.result, filters.kind, filters.ref, len(filters.who)) == ("", "", "main", 150)


@pytest.mark.django_db
class HistoryViewTests:
    def test_the_page_lists_and_filters(self, root: DeployRoot, client_for: Callable[..., Client]) -> None:
        history.append(root, _record(1, result="failed", details={"ref": "hotfix-1"}))
        history.append(root, _record(2))
        client = client_for("view")
        page = client.get(CONSOLE + "history/", {"result": "failed"}).content.decode()
        assert "hotfix-1" in page
        assert _record(2).id not in page
        assert client.get(CONSOLE + "history/", {"page": "x"}).status_code == 200

    def test_ten_thousand_runs_render(self, root: DeployRoot, client_for: Callable[..., Client]) -> None:
        with open(root.history_file, "a", encoding="utf-8") as handle:
            for index in range(10_000):
                handle.write(json.dumps(dataclasses.asdict(_record(index))) + "\n")
        response = client_for("view").get(CONSOLE + "history/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "10001 runs" in page
        assert "Page 1 of 201" in page


class AppendedReaderTests:
    def test_gives_what_read_gives_parsing_only_what_was_appended(self, root: DeployRoot) -> None:
        reader = history.AppendedReader()
        history.append(root, _record(1, result="started"))
        assert [r.id for r in reader.records(root)] == [r.id for r in history.read(root)]
        history.append(root, _record(2))
        # A deploy's outcome replaces its "started" record and takes its place at the end.
        history.append(root, _record(1, result="ok"))
        assert [(r.id, r.result) for r in reader.records(root)] == [
            (r.id, r.result) for r in history.read(root)
        ]
        assert reader.records(root)[-1].result == "ok"

    def test_a_torn_last_line_waits_for_its_end(self, root: DeployRoot) -> None:
        reader = history.AppendedReader()
        line = json.dumps(dataclasses.asdict(_record(5)))
        with open(root.history_file, "a", encoding="utf-8") as handle:
            handle.write(line[:40])
        assert _record(5).id not in [r.id for r in reader.records(root)]
        with open(root.history_file, "a", encoding="utf-8") as handle:
            handle.write(line[40:] + "\n")
        assert reader.records(root)[-1].id == _record(5).id

    def test_a_replaced_file_is_read_again(self, root: DeployRoot) -> None:
        reader = history.AppendedReader()
        history.append(root, _record(1))
        assert len(reader.records(root)) == 2
        replacement = root.history_file.with_suffix(".new")
        replacement.write_text(json.dumps(dataclasses.asdict(_record(9))) + "\n")
        replacement.replace(root.history_file)
        assert [r.id for r in reader.records(root)] == [_record(9).id]
        root.history_file.unlink()
        assert reader.records(root) == []


@pytest.mark.django_db
def test_an_unreadable_history_is_said_on_the_pages_not_a_500(
    root: DeployRoot, client_for: Callable[..., Client]
) -> None:
    root.history_file.unlink()
    root.history_file.mkdir()  # reading it fails as an unreadable file would, even for root
    client = client_for("view")
    for page in ("", "history/"):
        response = client.get(CONSOLE + page)
        assert response.status_code == 200
        assert "cannot be read" in response.content.decode()
