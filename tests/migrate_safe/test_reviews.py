"""The reviewed-phases file: --review writes it, the plan reads it as an override layer, a changed
migration is undecided again, and a bad file changes nothing on disk or in the database."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.test.utils import override_settings

from django_deploykit.atomic_files import write_atomically
from django_deploykit.exit_codes import ExitCode
from django_deploykit.migrate_safe.checks import check_reviewed_migrations
from django_deploykit.migrate_safe.planning import pending_for_leaves
from django_deploykit.migrate_safe.reviews import (
    Entry,
    ReviewFileError,
    migration_digest,
    parse_reviews,
    render,
    toml_string,
)
from tests.commands import run_command
from tests.migrate_safe.conftest import previous_release, use_graph
from tests.migrate_safe.graph_settings import BASE_APPS, GRAPHS, TEST_APPS

REVIEWED = ("ms_shop.0002_fill_codes", "ms_shop.0003_raw_sql")


def labels_by_phase(alias: str) -> dict[str, tuple[str, str]]:
    plan = pending_for_leaves(connections[alias])
    return {v.label: (v.phase, v.source) for v in plan.migrations if v.label.startswith("ms_")}


def applied(alias: str) -> list[tuple[str, str]]:
    recorder = MigrationRecorder(connections[alias])
    if not recorder.has_table():
        return []
    return sorted(recorder.applied_migrations())


def decide(path: Path, decisions: dict[str, tuple[str, str]]) -> None:
    """What a reviewer does: fill phase and reason of the entries --review wrote, by hand."""
    lines = path.read_text(encoding="utf-8").splitlines()
    current = None
    for number, line in enumerate(lines):
        if line.startswith('["'):
            current = line[2:-2]
        elif current in decisions and line.startswith("phase = "):
            lines[number] = f"phase = {toml_string(decisions[current][0])}"
        elif current in decisions and line.startswith("reason = "):
            lines[number] = f"reason = {toml_string(decisions[current][1])}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def review_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "reviewed_migrations.toml"
    with override_settings(DEPLOYKIT_REVIEWED_MIGRATIONS=str(path)):
        yield path


@pytest.fixture
def editable_graph(tmp_path: Path) -> Iterator[Path]:
    """The 'reviewed' graph copied into an importable package of its own, so a test may edit a
    migration the way a developer would."""
    package = f"deploykit_reviewed_{secrets.token_hex(4)}"
    root = tmp_path / "graphs"
    shutil.copytree(GRAPHS / "reviewed", root / package, ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(root))
    modules: dict[str, str | None] = dict.fromkeys(TEST_APPS)
    modules["ms_shop"] = f"{package}.ms_shop"
    settings = {
        "INSTALLED_APPS": [*BASE_APPS, *(f"tests.migrate_safe.apps.{app}" for app in TEST_APPS)],
        "MIGRATION_MODULES": modules,
    }
    try:
        with override_settings(**settings):
            yield root / package / "ms_shop"
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]


def forget_module(migration_file: Path) -> None:
    # The loader imports each migration once per process; a developer's edit means a new process.
    for name in [m for m in sys.modules if m.endswith("." + migration_file.stem)]:
        del sys.modules[name]


class FileFormatTests:
    def test_what_is_written_parses_back_with_nasty_strings(self, tmp_path: Path) -> None:
        nasty = 'a "quoted" \\ back\nslash\ttab \x00\x1f\x7f é ✓ ]"[ # not a comment'
        entry = Entry(
            "shop.0002_x", "additive", nasty, "sha256:ab", "2026-12-01", comments=[nasty, "docstring:"]
        )
        text = render([entry])
        reviews = parse_reviews(text, tmp_path / "r.toml")
        assert reviews["shop.0002_x"].reason == nasty.strip()
        assert reviews["shop.0002_x"].line == text.splitlines().index('["shop.0002_x"]') + 1
        assert tomllib.loads(text)["shop.0002_x"]["digest"] == "sha256:ab"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('["a.b"\nphase = "x"', r"r\.toml is not valid TOML: .*line 1"),
            (
                '# c\n\n["a.0001_x"]\nphase = "later"\nreason = "r"\ndigest = "sha256:1"\n',
                r'r\.toml, entry \["a\.0001_x"\] \(line 3\): phase \'later\' is not',
            ),
            (
                '["a.0001_x"]\nphase = "additive"\nreason = "  "\ndigest = "sha256:1"\n',
                r'entry \["a\.0001_x"\] \(line 1\): the reason is empty',
            ),
            (
                '["a.0001_x"]\nphase = "additive"\nreason = "r"\ndigest = "sha256:1"\nowner = "me"\n',
                r"\(line 1\): unknown key 'owner'",
            ),
            ('["a.0001_x"]\nphase = ""\nreason = "because"\ndigest = "sha256:1"\n', "no phase"),
            ('["a.0001_x"]\nphase = "additive"\nreason = "r"\n', "the digest is missing"),
            ('["a"]\nphase = ""\n', "not of the form 'app_label.migration_name'"),
            (
                '# c\n[a.0001_x]\nphase = ""\n',
                r'entry \[a\.0001_x\] \(line 2\): write the name in quotes, \["a\.0001_x"\]',
            ),
            ('["a.0001_x"]\nphase = 1\n', "phase must be a string"),
            ('"a.0001_x" = {phase = "now"}\n', r'r\.toml, entry \["a\.0001_x"\]: phase \'now\''),
        ],
    )
    def test_bad_input_names_the_file_and_the_entry(self, tmp_path: Path, text: str, expected: str) -> None:
        with pytest.raises(ReviewFileError, match=expected):
            parse_reviews(text, tmp_path / "r.toml")

    def test_an_entry_nobody_filled_in_is_not_a_decision(self, tmp_path: Path) -> None:
        review = parse_reviews('["a.0001_x"]\nphase = ""\nreason = ""\ndigest = "sha256:1"\n', tmp_path)
        assert not review["a.0001_x"].decided

    def test_the_digest_ignores_line_endings_and_sees_every_byte(self, editable_graph: Path) -> None:
        from django.db.migrations.loader import MigrationLoader

        def digest() -> str | None:
            forget_module(editable_graph / "0002_fill_codes.py")
            loader = MigrationLoader(None, load=True)
            return migration_digest(loader.get_migration("ms_shop", "0002_fill_codes"))

        path = editable_graph / "0002_fill_codes.py"
        first = digest()
        assert first is not None
        assert first.startswith("sha256:")
        source = path.read_bytes()
        path.write_bytes(source.replace(b"\n", b"\r\n"))
        assert digest() == first
        path.write_bytes(source.replace(b'code="?"', b'code="-"'))
        assert digest() != first


class ReviewedLayerTests:
    def test_the_plan_shows_undecided_migrations_with_their_code(
        self, sqlite_db: str, review_path: Path
    ) -> None:
        with use_graph("reviewed"):
            previous_release(sqlite_db)
            out, _, code = run_command("migrate_safe", "--plan", database=sqlite_db)
            json_out, _, _ = run_command("migrate_safe", "--plan", "--format=json", database=sqlite_db)
        assert code == 0
        assert "ms_shop.0002_fill_codes  [unclassified, rules]" in out
        assert (
            "code: tests/migrate_safe/graphs/reviewed/ms_shop/0002_fill_codes.py:14 (class Migration)" in out
        )
        assert "docstring: Gives every product without a code one derived from its name." in out
        assert (
            "operation 1 RunPython code: fill_codes at tests/migrate_safe/graphs/reviewed/ms_shop/0002_fill_codes.py:8"
            in out
        )
        assert "Writes only rows whose code is NULL" in out
        assert "operation 1 RunSQL sql: UPDATE ms_shop_product SET code = UPPER(code)" in out
        assert "docstring: Upper-cases the codes the previous migration wrote." in out
        assert "'migrate_safe --review' lists it in reviewed_migrations.toml" in out
        migrations = {f"{m['app_label']}.{m['name']}": m for m in json.loads(json_out)["migrations"]}
        details = migrations["ms_shop.0002_fill_codes"]["details"]
        assert details["location"].endswith("0002_fill_codes.py:14")
        assert details["code"][0]["kind"] == "RunPython code"
        assert details["code"][0]["docstring"].startswith("Writes only rows")
        assert "details" not in migrations["contenttypes.0001_initial"]

    def test_review_writes_every_undecided_migration_and_keeps_decisions(
        self, sqlite_db: str, review_path: Path
    ) -> None:
        with use_graph("reviewed"):
            previous_release(sqlite_db)
            out, _, code = run_command("migrate_safe", "--review", database=sqlite_db)
            assert code == 0
            assert "Added ms_shop.0002_fill_codes" in out
            assert "Added ms_shop.0003_raw_sql" in out
            written = tomllib.loads(review_path.read_text(encoding="utf-8"))
            assert sorted(written) == list(REVIEWED)
            entry = written["ms_shop.0002_fill_codes"]
            assert entry["phase"] == entry["reason"] == ""
            assert entry["digest"].startswith("sha256:")
            text = review_path.read_text(encoding="utf-8")
            assert "#      RunPython code fill_codes at tests/migrate_safe/graphs/reviewed" in text
            assert "#   1. Raw Python operation: unknown" in text
            # Waiting entries decide nothing.
            assert labels_by_phase(sqlite_db)["ms_shop.0002_fill_codes"] == ("unclassified", "rules")
            decide(
                review_path, {"ms_shop.0002_fill_codes": ("additive", "Fills a column the old code ignores.")}
            )
            decided = review_path.read_bytes()
            out, _, _ = run_command("migrate_safe", "--review", database=sqlite_db)
            assert "Kept the review of ms_shop.0002_fill_codes" in out
            assert "Still waiting for a phase and a reason: ms_shop.0003_raw_sql" in out
            assert review_path.read_bytes() == decided
            plan, _, _ = run_command("migrate_safe", "--plan", database=sqlite_db)
        assert (
            "ms_shop.0002_fill_codes  [additive, reviewed] Reviewed (reviewed_migrations.toml): "
            "Fills a column the old code ignores." in plan
        )

    def test_layers_marker_then_setting_then_reviewed_then_contrib(
        self, sqlite_db: str, review_path: Path
    ) -> None:
        from django.db.migrations.loader import MigrationLoader

        with use_graph("reviewed"):
            previous_release(sqlite_db)
            loader = MigrationLoader(None, load=True)
            entries = [
                Entry(
                    label, phase, "reviewed", migration_digest(loader.get_migration(*label.split("."))) or ""
                )
                for label, phase in (
                    ("ms_shop.0002_fill_codes", "destructive"),
                    ("ms_shop.0003_raw_sql", "destructive"),
                    ("auth.0011_update_proxy_permissions", "destructive"),
                )
            ]
            review_path.write_text(render(entries), encoding="utf-8")
            with override_settings(DEPLOYKIT_MIGRATION_PHASES={"ms_shop.0003_raw_sql": "additive"}):
                plan = pending_for_leaves(connections[sqlite_db])
        found = {v.label: (v.phase, v.source) for v in plan.migrations}
        assert found["ms_shop.0002_fill_codes"] == ("destructive", "reviewed")
        assert found["ms_shop.0003_raw_sql"] == ("additive", "setting")
        assert found["auth.0011_update_proxy_permissions"] == ("destructive", "reviewed")

    def test_the_system_check_reports_a_bad_file_as_e034(self, review_path: Path) -> None:
        assert check_reviewed_migrations() == []
        review_path.write_text('["ms_shop.0002_fill_codes"]\nphase = "soon"\n', encoding="utf-8")
        errors = check_reviewed_migrations()
        assert [e.id for e in errors] == ["django_deploykit.E034"]
        assert str(review_path) in errors[0].msg
        assert '["ms_shop.0002_fill_codes"] (line 1)' in errors[0].msg
        review_path.write_text("[[[", encoding="utf-8")
        assert "is not valid TOML" in check_reviewed_migrations()[0].msg


BAD_FILES = {
    "not TOML": ('["ms_shop.0002_fill_codes"\nphase = "additive"\n', "is not valid TOML"),
    "unknown phase": (
        '["ms_shop.0002_fill_codes"]\nphase = "later"\nreason = "r"\ndigest = "sha256:0"\n',
        "[\"ms_shop.0002_fill_codes\"] (line 1): phase 'later'",
    ),
    "empty reason": (
        '\n["ms_shop.0002_fill_codes"]\nphase = "additive"\nreason = ""\ndigest = "sha256:0"\n',
        '["ms_shop.0002_fill_codes"] (line 2): the reason is empty',
    ),
    "unknown key": (
        '["ms_shop.0002_fill_codes"]\nphase = ""\nreason = ""\ndigest = "sha256:0"\nphse = "additive"\n',
        "unknown key 'phse'",
    ),
}

DATABASES = [
    "sqlite_db",
    pytest.param("postgres_db", marks=pytest.mark.postgresql),
    pytest.param("mysql_db", marks=pytest.mark.mysql),
]


class BadFileChangesNothingTests:
    @pytest.mark.parametrize("database", DATABASES)
    @pytest.mark.parametrize("bad", sorted(BAD_FILES))
    @pytest.mark.parametrize("action", [("--phase=additive",), ("--review",), ("--plan",)])
    def test_a_bad_file_is_refused_with_nothing_changed(
        self, request: Any, database: str, bad: str, action: tuple[str, ...], review_path: Path
    ) -> None:
        alias = request.getfixturevalue(database)
        with use_graph("reviewed"):
            _, _, code = run_command("migrate_safe", "ms_shop", "0001", "--phase=additive", database=alias)
            assert code == 0
            before = applied(alias)
            text, expected = BAD_FILES[bad]
            review_path.write_text(text, encoding="utf-8")
            content = review_path.read_bytes()
            # With the system checks (E034) and without them (migrate_safe's own refusal).
            for skip in (False, True):
                out, err, code = run_command("migrate_safe", *action, database=alias, skip_checks=skip)
                assert code == 1, (out, err)
                assert str(review_path) in err
                assert expected in err
                if not skip:
                    assert "django_deploykit.E034" in err
                assert applied(alias) == before
                assert review_path.read_bytes() == content
        assert ("ms_shop", "0002_fill_codes") not in before


def end_to_end(alias: str, graph: Path, review_path: Path) -> None:
    # A database at the live release: on an empty one every migration is a first install.
    previous_release(alias)
    assert labels_by_phase(alias)["ms_shop.0002_fill_codes"] == ("unclassified", "rules")
    _, _, code = run_command("migrate_safe", "--check", database=alias)
    assert code == ExitCode.MIGRATIONS_BLOCKED
    out, _, code = run_command("migrate_safe", "--review", "--format=json", database=alias)
    assert code == 0
    assert json.loads(out)["added"] == list(REVIEWED)
    decide(
        review_path,
        {
            "ms_shop.0002_fill_codes": (
                "additive",
                "Fills codes only where NULL; the old code ignores them.",
            ),
            "ms_shop.0003_raw_sql": ("additive", "Upper-cases codes the old code never reads."),
        },
    )
    assert labels_by_phase(alias)["ms_shop.0003_raw_sql"] == ("additive", "reviewed")

    # The developer edits 0003 after its review: it is undecided again, and says why.
    sql = graph / "0003_raw_sql.py"
    sql.write_text(sql.read_text().replace("UPPER(code)", "LOWER(code) || '-'"))
    forget_module(sql)
    found = labels_by_phase(alias)
    assert found["ms_shop.0002_fill_codes"] == ("additive", "reviewed")
    assert found["ms_shop.0003_raw_sql"] == ("unclassified", "rules")
    plan, _, _ = run_command("migrate_safe", "--plan", database=alias)
    assert "It changed since it was reviewed on " in plan
    assert "review it again: migrate_safe --review" in plan
    document = json.loads(run_command("migrate_safe", "--plan", "--format=json", database=alias)[0])
    notes = {m["name"]: m.get("review_note", "") for m in document["migrations"]}
    assert notes["0003_raw_sql"].startswith("It changed since it was reviewed on ")
    assert notes["0002_fill_codes"] == ""

    out, _, code = run_command("migrate_safe", "--phase=additive", database=alias)
    assert code == 0, out
    assert ("ms_shop", "0002_fill_codes") in applied(alias)
    assert ("ms_shop", "0003_raw_sql") not in applied(alias)

    out, _, code = run_command("migrate_safe", "--review", database=alias)
    assert "Reopened ms_shop.0003_raw_sql" in out
    reopened = tomllib.loads(review_path.read_text(encoding="utf-8"))["ms_shop.0003_raw_sql"]
    assert reopened["phase"] == reopened["reason"] == ""
    assert "# Reviewed on " in review_path.read_text(encoding="utf-8")
    decide(review_path, {"ms_shop.0003_raw_sql": ("additive", "Rewrites codes the old code never reads.")})
    out, _, code = run_command("migrate_safe", "--phase=additive", database=alias)
    assert code == 0, out
    assert ("ms_shop", "0003_raw_sql") in applied(alias)


class EndToEndTests:
    @pytest.mark.parametrize("database", DATABASES)
    def test_review_fill_apply_edit_review_again(
        self, request: Any, database: str, editable_graph: Path, review_path: Path
    ) -> None:
        end_to_end(request.getfixturevalue(database), editable_graph, review_path)


class ReviewOptionTests:
    def test_nothing_to_review_writes_no_file(self, sqlite_db: str, review_path: Path) -> None:
        with use_graph("expand"):
            out, _, code = run_command("migrate_safe", "--review", database=sqlite_db)
        assert code == 0
        assert "No pending migration needs a review" in out
        assert not review_path.exists()

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            (("--review", "--phase=additive"), "run it without --phase"),
            (("--review", "--plan"), "--plan and --review do different things"),
        ],
    )
    def test_review_applies_nothing_and_goes_alone(
        self, sqlite_db: str, review_path: Path, args: tuple[str, ...], expected: str
    ) -> None:
        with use_graph("reviewed"):
            _, err, code = run_command("migrate_safe", *args, database=sqlite_db)
        assert code == 1
        assert expected in err
        assert applied(sqlite_db) == []
        assert not review_path.exists()

    def test_a_relative_path_is_taken_from_base_dir(self, sqlite_db: str, tmp_path: Path) -> None:
        with use_graph("reviewed", BASE_DIR=tmp_path, DEPLOYKIT_REVIEWED_MIGRATIONS="reviews/phases.toml"):
            (tmp_path / "reviews").mkdir()
            previous_release(sqlite_db)
            _, _, code = run_command("migrate_safe", "--review", database=sqlite_db)
        assert code == 0
        assert sorted(tomllib.loads((tmp_path / "reviews" / "phases.toml").read_text())) == list(REVIEWED)
        assert [p.name for p in (tmp_path / "reviews").iterdir()] == ["phases.toml"]


class DocsTests:
    def test_the_toml_blocks_of_the_docs_are_valid_entries(self) -> None:
        page = Path(__file__).resolve().parents[2] / "docs" / "migrate_safe.md"
        blocks = re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL)
        assert blocks
        for block in blocks:
            reviews = parse_reviews(block, page)
            assert all(review.decided for review in reviews.values())


class AtomicWriteTests:
    def test_a_failed_write_leaves_the_old_file_and_no_temporary(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:

        path = tmp_path / "reviewed_migrations.toml"
        path.write_text("# old\n", encoding="utf-8")
        path.chmod(0o640)

        def fail(*args: Any) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("django_deploykit.atomic_files.os.replace", fail)
        with pytest.raises(OSError, match="No space left"):
            write_atomically(path, "# new\n")
        assert path.read_text(encoding="utf-8") == "# old\n"
        assert [p.name for p in tmp_path.iterdir()] == [path.name]
        monkeypatch.undo()
        write_atomically(path, "# new\n")
        assert path.read_text(encoding="utf-8") == "# new\n"
        assert path.stat().st_mode & 0o777 == 0o640
