"""Report and benchmark: migrate_safe's verdicts on real third-party histories, beside django-syzygy's.

Installs the corpus of tests/migrate_safe/corpus/pins.py the way the test does (a virtualenv, real
pip, the wheel cache under ~/.cache/deploykit-corpus, django-deploykit as a wheel of this checkout)
and django-syzygy beside it, then on two throwaway databases of one server:

- "upgrade": the old pins migrated with ``migrate``, then the packages upgraded to the new pins;
- "fresh": empty, with the new pins installed (a first install: one phase);
- "history": every migration at the new pins judged as the deploy that brought it would judge it,
  against the state of everything before it.

For every migration of both plans it prints our phase (with the reason) and django-syzygy's stage
(its own heuristic: ``syzygy.plan.get_migration_stage``, without the blanket "pre_deploy" it gives
third-party apps by default), then counts each verdict, the agreements, and the overrides a user
needs without ``DEPLOYKIT_MIGRATION_PHASES``: split into migrations blocked by schema operations
alone (target: none) and migrations running code (RunPython, RunSQL, custom operations), which
tests/migrate_safe/corpus/decisions.py decides. Then it times ``migrate_safe --plan`` against
``migrate --plan`` in fresh processes on the same database, alternating, best of --repeat, and
prints the ratio (target: within 1.2x).

    python benchmarks/migration_corpus.py [--database-url postgres://postgres@127.0.0.1:5432/postgres]
        [--root DIR] [--repeat 5] [--brief]

--database-url names the server and a database to connect to for creating the two throwaway ones
(PostgreSQL or MariaDB/MySQL); --root keeps the venv and project there (default: a temporary folder);
--brief prints only the blocked migrations and the disagreements, not every migration.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.migrate_safe.corpus.analysis import (  # noqa: E402
    OWN_APPS,
    disk_migrations,
    history_plan,
    label,
    overrides_needed,
)
from tests.migrate_safe.corpus.environment import Corpus  # noqa: E402
from tests.migrate_safe.corpus.pins import PACKAGES, SYZYGY  # noqa: E402
from tests.slot_packages import wheelhouse  # noqa: E402

# Run in the venv by ``manage.py shell``: syzygy's stage of each migration of the given labels.
SYZYGY_STAGES = """
import json
from django.db.migrations.loader import MigrationLoader
from syzygy.exceptions import AmbiguousStage
from syzygy.plan import get_migration_stage
loader = MigrationLoader(None, ignore_no_migrations=True)
stages = {{}}
for app, name in {nodes!r}:
    try:
        stage = get_migration_stage(loader.graph.nodes[app, name])
        stages[app + "." + name] = stage.value if stage is not None else "none"
    except AmbiguousStage:
        stages[app + "." + name] = "ambiguous"
print(json.dumps(stages))
"""

# Our phase as syzygy would name it: a migration blocked in two phases is what syzygy calls ambiguous.
AS_SYZYGY = {
    "additive": "pre_deploy",
    "destructive": "post_deployment",
    "mixed": "ambiguous",
    "unclassified": "ambiguous",
}


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _sql(corpus: Corpus, url: str, statement: str) -> None:
    """One statement through Django's connection in the venv (it has the drivers)."""
    code = f"from django.db import connection\nconnection.cursor().execute({statement!r})"
    completed = corpus.manage(url, "shell", "-v", "0", "-c", code, label="sql")
    if completed.returncode != 0:
        raise SystemExit(f"{statement} failed:\n{completed.stderr[-2000:]}")


def _check(completed: Any, what: str) -> None:
    if completed.returncode != 0:
        raise SystemExit(f"{what} failed:\n{completed.stderr[-3000:]}")


def syzygy_stages(corpus: Corpus, url: str, migrations: list[dict[str, Any]]) -> dict[str, str]:
    nodes = [(m["app_label"], m["name"]) for m in migrations]
    completed = corpus.manage(
        url, "shell", "-v", "0", "-c", SYZYGY_STAGES.format(nodes=nodes), label="syzygy", syzygy=True
    )
    _check(completed, "asking django-syzygy")
    stages: dict[str, str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return stages


def report(
    title: str, plan: dict[str, Any], bare: dict[str, Any], stages: dict[str, str], brief: bool
) -> Counter[str]:
    """Print one plan's migrations (corpus apps only) with both verdicts; return the counts."""
    counts: Counter[str] = Counter()
    bare_phase = {label(m): m["phase"] for m in bare["migrations"]}
    migrations = [m for m in plan["migrations"] if m["app_label"] not in OWN_APPS]
    print(f"\n== {title}: {len(migrations)} migrations of the corpus apps")
    print(f"{'migration':<72} {'rules':<13} {'decided':<12} {'syzygy':<16} reason")
    for migration in migrations:
        name = label(migration)
        ours, theirs = migration["phase"], stages.get(name, "?")
        rules = bare_phase.get(name, ours)
        # syzygy gives no stage to a migration without operations; ours runs it with the additive
        # phase: both say it fits either side of the swap.
        agrees = AS_SYZYGY.get(rules) == theirs or (theirs == "none" and rules == "additive")
        counts[f"ours (rules alone): {rules}"] += 1
        counts[f"ours (with decisions): {ours}"] += 1
        counts[f"syzygy: {theirs}"] += 1
        counts["agree" if agrees else "disagree"] += 1
        if not agrees:
            counts[f"disagree: ours {rules}, syzygy {theirs}"] += 1
        if brief and agrees and rules not in ("mixed", "unclassified"):
            continue
        decided = "" if migration["source"] == "rules" else f"{ours}"
        print(f"{name:<72} {rules:<13} {decided:<12} {theirs:<16} {migration['reason'][:100]}")
    return counts


def summary(title: str, counts: Counter[str], bare: dict[str, Any]) -> None:
    schema, code = overrides_needed(bare)
    schema = [m for m in schema if m.split(".")[0] not in OWN_APPS]
    code = [m for m in code if m.split(".")[0] not in OWN_APPS]
    print(f"\n-- {title}")
    for key in sorted(counts):
        print(f"  {key}: {counts[key]}")
    total = counts["agree"] + counts["disagree"]
    print(f"  agreement with syzygy (rules alone; blocked = ambiguous): {counts['agree']}/{total}")
    print(f"  overrides needed for schema operations alone (target 0): {len(schema)}")
    for name in schema:
        print(f"    {name}")
    print(f"  decisions needed for migrations running code: {len(code)}")


def best_times(corpus: Corpus, url: str, repeat: int) -> tuple[float, float]:
    """Best of ``repeat`` for ``migrate --plan`` and ``migrate_safe --plan``, run alternately."""
    plain: list[float] = []
    safe: list[float] = []
    for _ in range(repeat):
        for command, times in ((["migrate", "--plan"], plain), (["migrate_safe", "--plan"], safe)):
            started = time.perf_counter()
            _check(corpus.manage(url, *command, label="timing"), " ".join(command))
            times.append(time.perf_counter() - started)
    return min(plain), min(safe)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--root", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--brief", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deploykit-corpus-bench-") as folder:
        root = args.root or Path(folder)
        corpus = Corpus(root, wheelhouse())
        print("corpus: " + ", ".join(f"{p.name} {p.old} -> {p.new}" for p in PACKAGES))
        corpus.create()
        names = {which: f"deploykit_corpus_{which}_{secrets.token_hex(3)}" for which in ("upgrade", "fresh")}
        urls = {which: _with_database(args.database_url, name) for which, name in names.items()}
        for name in names.values():
            _sql(corpus, args.database_url, f"CREATE DATABASE {name}")
        try:
            _check(corpus.manage(urls["upgrade"], "migrate", "-v", "0"), "migrate at the old pins")
            corpus.install("new", extra=(SYZYGY,))
            on_disk = Counter(
                app for app, _, _ in disk_migrations(corpus, urls["fresh"]) if app not in OWN_APPS
            )
            print(f"migrations at the new pins: {sum(on_disk.values())}")
            print("  " + ", ".join(f"{app} {count}" for app, count in sorted(on_disk.items())))
            totals: Counter[str] = Counter()
            plans = {}
            for which in ("upgrade", "fresh"):
                plan = corpus.manage_json(urls[which], "--plan")[0]
                bare = corpus.manage_json(urls[which], "--plan", decisions=False)[0]
                stages = syzygy_stages(corpus, urls[which], plan["migrations"])
                counts = report(f"{which} plan", plan, bare, stages, args.brief)
                summary(f"{which} plan", counts, bare)
                totals += counts
                plans[which] = plan
            total = totals["agree"] + totals["disagree"]
            print(f"\nboth plans: {total} migrations, syzygy agrees on {totals['agree']}")
            # A fresh plan is a first install (one phase, nothing judged); the history judges each
            # migration as the deploy that brought it would.
            plan = history_plan(corpus, urls["fresh"])
            bare = history_plan(corpus, urls["fresh"], decisions=False)
            stages = syzygy_stages(corpus, urls["fresh"], plan["migrations"])
            counts = report("history, each migration as its own deploy", plan, bare, stages, args.brief)
            summary("history, each migration as its own deploy", counts, bare)
            print(
                f"\nvendor: {plans['fresh']['vendor']}; Django migrate and migrate_safe, best of {args.repeat}"
            )
            print(f"{'database':<10} {'migrate --plan':>15} {'migrate_safe --plan':>20} {'ratio':>7}")
            for which in ("upgrade", "fresh"):
                plain, safe = best_times(corpus, urls[which], args.repeat)
                print(f"{which:<10} {plain:>14.2f}s {safe:>19.2f}s {safe / plain:>6.2f}x")
            print("target: within 1.2x")
        finally:
            for name in names.values():
                _sql(corpus, args.database_url, f"DROP DATABASE IF EXISTS {name}")


if __name__ == "__main__":
    main()
