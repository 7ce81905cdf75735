"""Real third-party migration histories, upgraded in two phases, against plain ``migrate``.

The corpus (tests/migrate_safe/corpus/pins.py) is installed the way a user installs it: a virtualenv
with real pip, the packages at their old pins, django-deploykit as a wheel of this checkout; then
``pip install -r requirements-new.txt`` in the same venv. Per database server, four databases:

- A: ``migrate`` at the old pins, the upgrade, ``migrate``;
- B: ``migrate_safe --phase=additive`` then ``--phase=destructive`` at the old pins (a first
  install: one phase), the upgrade, the same two phases;
- C: a fresh install at the new pins with the two phases; D: the same with ``migrate``.

A and B, and C and D, must end with the same introspected schema (tables; columns with type,
size, nullability and default; constraints and indexes) and the same ``django_migrations`` rows.
Migrations running code get the user's decisions from corpus/decisions.py; in the upgrade, no
migration blocked only by schema operations may need an override. Judged one migration at a time
(the packages' whole history), what schema operations alone still block is the reviewed list
decisions.STILL_BLOCKED. The setup runs once per server (module-scoped); each test checks one of
these promises.

The pins support Django 5.2; the module belongs to the 'end_to_end' group, which CI runs with the
LTS only. The first run fills the wheel cache from the package index; later ones need no index.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connections

from django_deploykit.migrate_safe.schema import differences, snapshot
from tests.conftest import _require
from tests.migrate_safe.conftest import _server_database, url_for
from tests.migrate_safe.corpus.analysis import OWN_APPS, disk_migrations, history_plan, overrides_needed
from tests.migrate_safe.corpus.decisions import MIGRATION_PHASES, ONLY_ON, STILL_BLOCKED
from tests.migrate_safe.corpus.environment import Corpus
from tests.migrate_safe.corpus.pins import PACKAGES
from tests.services import SERVICES
from tests.slot_packages import wheelhouse

pytestmark = [pytest.mark.end_to_end]


def schema(alias: str) -> dict[str, dict[str, list[Any]]]:
    """Tables, columns (type, size, nullability, default), constraints and indexes: an upgrade that left a
    default or a column length behind must show."""
    return snapshot(connections[alias], in_detail=True)


def recorded(alias: str) -> set[tuple[str, str]]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return {(app, name) for app, name in cursor.fetchall()}


@dataclass
class Step:
    """One migrate_safe run: its exit code, its JSON and the error it gave."""

    code: int
    output: dict[str, Any]

    @property
    def error(self) -> str:
        return str(self.output.get("error", ""))


@dataclass
class CorpusRun:
    vendor: str
    corpus: Corpus
    first_install: dict[str, Step] = field(default_factory=dict)
    first_install_all: Step | None = None
    upgrade: dict[str, Step] = field(default_factory=dict)
    upgrade_check: Step | None = None
    fresh: dict[str, Step] = field(default_factory=dict)
    upgrade_plan: dict[str, Any] = field(default_factory=dict)
    fresh_plan: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)
    disk: list[tuple[str, str, bool]] = field(default_factory=list)
    schemas: dict[str, dict[str, dict[str, list[Any]]]] = field(default_factory=dict)
    rows: dict[str, set[tuple[str, str]]] = field(default_factory=dict)


def _migrate(corpus: Corpus, url: str, label: str) -> None:
    completed = corpus.manage(url, "migrate", "--no-input", "-v", "0", label=label)
    if completed.returncode != 0:
        raise RuntimeError(f"{label} failed:\n{completed.stderr[-3000:]}")


def _phase(corpus: Corpus, url: str, phase: str, label: str) -> Step:
    output, code = corpus.manage_json(url, f"--phase={phase}", label=label)
    return Step(code, output)


def _first_install(run: CorpusRun, b: str) -> None:
    corpus = run.corpus
    for phase in ("additive", "destructive"):
        run.first_install[phase] = _phase(corpus, b, phase, f"B: first install, {phase}")
    if any(step.code != 0 for step in run.first_install.values()):
        # Should the two-phase first install fail (test_first_install_in_two_phases says so),
        # a first install with downtime, --phase=all, still lets the upgrade be tested.
        run.first_install_all = _phase(corpus, b, "all", "B: first install, all")
        if run.first_install_all.code != 0:
            raise RuntimeError(f"first install with --phase=all failed: {run.first_install_all.error}")


def _upgrade(run: CorpusRun, b: str) -> None:
    for phase in ("additive", "destructive"):
        run.upgrade[phase] = _phase(run.corpus, b, phase, f"B: upgrade, {phase}")
    run.upgrade_check = Step(*reversed(run.corpus.manage_json(b, "--check", label="B: check")))


def _fresh_install(run: CorpusRun, c: str) -> None:
    for phase in ("additive", "destructive"):
        run.fresh[phase] = _phase(run.corpus, c, phase, f"C: fresh install, {phase}")


def _together(*calls: Callable[[], None]) -> None:
    """Independent chains on separate databases, two at a time: the module's runtime nearly halves."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(call) for call in calls]:
            future.result()


def _run(vendor: str, corpus: Corpus, urls: dict[str, str]) -> CorpusRun:
    run = CorpusRun(vendor, corpus)
    a, b, c, d = urls["A"], urls["B"], urls["C"], urls["D"]
    corpus.create()
    _together(lambda: _migrate(corpus, a, "A: migrate (old pins)"), lambda: _first_install(run, b))
    # The same venv, upgraded as a user upgrades: pip install -r requirements-new.txt.
    corpus.install("new")
    run.upgrade_plan = corpus.manage_json(b, "--plan", label="B: plan", decisions=False)[0]
    run.fresh_plan = corpus.manage_json(c, "--plan", label="C: plan", decisions=False)[0]
    run.history = history_plan(corpus, c, decisions=False)
    run.disk = disk_migrations(corpus, c)
    _together(
        lambda: _migrate(corpus, a, "A: migrate (new pins)"),
        lambda: _upgrade(run, b),
        lambda: _fresh_install(run, c),
        lambda: _migrate(corpus, d, "D: migrate (new pins)"),
    )
    return run


@contextmanager
def _databases(vendor: str, django_db_blocker: Any) -> Iterator[dict[str, str]]:
    service = SERVICES["postgresql" if vendor == "postgresql" else "mariadb"]
    url = _require(service)
    with ExitStack() as stack:
        aliases = {
            name: stack.enter_context(
                contextmanager(_server_database)(url, f"corpus_{vendor}_{name}", django_db_blocker)
            )
            for name in "ABCD"
        }
        with django_db_blocker.unblock():
            yield aliases


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mariadb", marks=pytest.mark.mysql),
    ],
)
def corpus_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any
) -> Iterator[CorpusRun]:
    vendor: str = request.param
    started = time.monotonic()
    with _databases(vendor, django_db_blocker) as aliases:
        corpus = Corpus(tmp_path_factory.mktemp(f"corpus-{vendor}"), wheelhouse())
        run = _run(vendor, corpus, {name: url_for(alias) for name, alias in aliases.items()})
        for name, alias in aliases.items():
            run.schemas[name] = schema(alias)
            run.rows[name] = recorded(alias)
        timings = ", ".join(f"{label} {seconds:.1f}s" for label, seconds in corpus.durations.items())
        # Printed past the capture, so every run shows where the module's minutes go.
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\ncorpus on {vendor}: {time.monotonic() - started:.0f}s ({timings})")
        yield run


def _no_error(steps: dict[str, Step]) -> dict[str, str]:
    return {phase: step.error for phase, step in steps.items() if step.code != 0}


def test_the_corpus_is_large_enough(corpus_run: CorpusRun) -> None:
    """At least five packages and 150 migrations of theirs at the new pins, squashed ones among them."""
    corpus_migrations = [m for m in corpus_run.disk if m[0] not in OWN_APPS]
    assert len(PACKAGES) >= 5
    assert len(corpus_migrations) >= 150, len(corpus_migrations)
    assert any(squashed for _, _, squashed in corpus_migrations)
    # The upgrade has work to do: otherwise A and B compare two first installs.
    assert len(corpus_run.upgrade_plan["migrations"]) >= 10


def test_first_install_in_two_phases(corpus_run: CorpusRun) -> None:
    assert _no_error(corpus_run.first_install) == {}


def test_upgrade_in_two_phases(corpus_run: CorpusRun) -> None:
    assert _no_error(corpus_run.upgrade) == {}
    assert corpus_run.upgrade_check is not None
    assert corpus_run.upgrade_check.code == 0, corpus_run.upgrade_check.output.get("blocked")


def test_upgrade_leaves_the_schema_migrate_leaves(corpus_run: CorpusRun) -> None:
    assert differences(corpus_run.schemas["A"], corpus_run.schemas["B"]) == []
    assert corpus_run.schemas["B"] == corpus_run.schemas["A"]


def _squashed(run: CorpusRun) -> set[tuple[str, str]]:
    return {(app, name) for app, name, squashed in run.disk if squashed}


def test_upgrade_records_the_rows_migrate_records(corpus_run: CorpusRun) -> None:
    """The rows of every migration but the squashing ones (their own test follows)."""
    assert sorted((corpus_run.rows["A"] ^ corpus_run.rows["B"]) - _squashed(corpus_run)) == []


def test_upgrade_records_squashed_migrations_as_migrate_does(corpus_run: CorpusRun) -> None:
    squashed = _squashed(corpus_run)
    assert squashed <= corpus_run.rows["A"]
    assert sorted(squashed - corpus_run.rows["B"]) == []


def test_fresh_install_in_two_phases(corpus_run: CorpusRun) -> None:
    assert _no_error(corpus_run.fresh) == {}


def test_fresh_install_leaves_the_schema_migrate_leaves(corpus_run: CorpusRun) -> None:
    assert differences(corpus_run.schemas["D"], corpus_run.schemas["C"]) == []
    assert corpus_run.schemas["C"] == corpus_run.schemas["D"]


def test_fresh_install_records_the_rows_migrate_records(corpus_run: CorpusRun) -> None:
    assert sorted((corpus_run.rows["C"] ^ corpus_run.rows["D"]) - _squashed(corpus_run)) == []


def test_fresh_install_records_squashed_migrations_as_migrate_does(corpus_run: CorpusRun) -> None:
    """The squashed migrations are applied by the additive phase, so this holds even while the
    destructive phase of a first install is refused."""
    squashed = _squashed(corpus_run)
    assert squashed <= corpus_run.rows["D"]
    assert sorted(squashed - corpus_run.rows["C"]) == []


def test_no_schema_operation_of_the_upgrade_needs_an_override(corpus_run: CorpusRun) -> None:
    """The issue's target: in the upgrade, only migrations running code need the user's word."""
    upgrade_schema, _ = overrides_needed(corpus_run.upgrade_plan)
    assert upgrade_schema == []


def test_the_history_blocks_only_what_breaks_one_side_of_the_swap(corpus_run: CorpusRun) -> None:
    """Every historic migration judged as its own deploy: what schema operations alone still block is
    exactly decisions.STILL_BLOCKED, each with why no phase is safe (renames, constraints recreated
    wider, both halves in one migration). A new one fails here; so does one the rules now pass."""
    history_schema, _ = overrides_needed(corpus_run.history)
    expected = {label for label, (_, vendor) in STILL_BLOCKED.items() if vendor in (None, corpus_run.vendor)}
    assert sorted(set(history_schema) - expected) == []
    assert sorted(expected - set(history_schema)) == []


def test_every_migration_running_code_has_a_decision(corpus_run: CorpusRun) -> None:
    """decisions.py covers every migration running code, and none blocked by schema operations alone.

    Which migrations run code depends on the backend (wagtailsearch.0006 runs SQL on MariaDB only),
    so a decision may name a migration that runs none on this one; it must exist all the same.
    """
    schema_only, code = overrides_needed(corpus_run.history)
    on_disk = {f"{app}.{name}" for app, name, _ in corpus_run.disk}
    assert sorted(set(code) - set(MIGRATION_PHASES)) == []
    assert sorted(set(MIGRATION_PHASES) - on_disk) == []
    elsewhere = {label for label, vendor in ONLY_ON.items() if vendor != corpus_run.vendor}
    assert sorted((set(MIGRATION_PHASES) - elsewhere) & set(schema_only)) == []
