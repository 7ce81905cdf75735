"""Benchmark: ``migrate_safe --plan`` against Django's ``migrate --plan`` on one generated graph.

Generates 100 apps with 50 migrations each (5,000 in all, with cross-app dependencies), then
times both commands in fresh processes, best of --repeat runs, on an empty SQLite database and
again with all but the last two migrations of each app recorded as applied (so migrate_safe also
builds the applied project state). Prints both times and the ratio for each (target: migrate_safe
within 1.5x of migrate).

    python benchmarks/migrate_safe_plan.py [--apps 100] [--per-app 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = {dependencies!r}

    operations = [
{operations}
    ]
"""


def _operations(app: int, number: int) -> str:
    if number == 1:
        return (
            f'        migrations.CreateModel(name="Thing{app}", fields=[("id", models.BigAutoField(primary_key=True)),'
            ' ("name", models.CharField(max_length=50))]),'
        )
    kind = number % 4
    field = f"f{number}"
    if kind == 0:
        return f'        migrations.AddField("thing{app}", "{field}", models.IntegerField(null=True)),'
    if kind == 1:
        return f'        migrations.AddField("thing{app}", "{field}", models.IntegerField(db_default=0)),'
    if kind == 2:
        return (
            f'        migrations.AddField("thing{app}", "{field}", models.CharField(max_length=10, null=True)),\n'
            f'        migrations.AddIndex("thing{app}", models.Index(fields=["{field}"], name="i{app}_{number}")),'
        )
    return f'        migrations.RemoveField("thing{app}", "f{number - 1}"),'


def generate(root: Path, apps: int, per_app: int) -> None:
    labels = [f"bench{a:03d}" for a in range(apps)]
    for a, label in enumerate(labels):
        package = root / label
        (package / "migrations").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "migrations" / "__init__.py").write_text("")
        for n in range(1, per_app + 1):
            dependencies = [] if n == 1 else [(label, f"{n - 1:04d}_step")]
            # Every tenth migration also waits for the previous app: cross-app edges.
            if a and n % 10 == 0:
                dependencies.append((labels[a - 1], f"{n:04d}_step"))
            (package / "migrations" / f"{n:04d}_step.py").write_text(
                MIGRATION.format(dependencies=dependencies, operations=_operations(a, n))
            )
    (root / "bench_settings.py").write_text(
        "SECRET_KEY = 'benchmark'\n"
        "USE_TZ = True\n"
        f"INSTALLED_APPS = ['django_deploykit', *{labels!r}]\n"
        f"DATABASES = {{'default': {{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {str(root / 'db.sqlite3')!r}}}}}\n"
        "DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'\n"
        "DEPLOYKIT_REQUIRE_DISPATCHER = False\n"
    )


def _env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(root), str(REPO_ROOT)]),
    }


FORGET_LAST_TWO = """
import django
django.setup()
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
MigrationRecorder(connection).migration_qs.filter(name__in={names!r}).delete()
"""


def record_all_but_last_two(root: Path, per_app: int) -> None:
    env = _env(root)
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--fake"],
        env=env,
        cwd=root,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    names = [f"{per_app - 1:04d}_step", f"{per_app:04d}_step"]
    subprocess.run([sys.executable, "-c", FORGET_LAST_TWO.format(names=names)], env=env, cwd=root, check=True)


def best_time(root: Path, command: list[str], repeat: int) -> float:
    env = _env(root)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "django", *command],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=root,
        )
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--per-app", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="migrate-safe-bench-") as folder:
        root = Path(folder)
        generate(root, args.apps, args.per_app)
        total = args.apps * args.per_app
        # One untimed run writes the .pyc files of the 5,000 modules; otherwise whichever command
        # runs first pays for compiling them.
        best_time(root, ["migrate", "--plan"], 1)
        print(f"graph: {total} migrations over {args.apps} apps, SQLite, best of {args.repeat}")
        _compare(root, "empty database", args.repeat)
        record_all_but_last_two(root, args.per_app)
        _compare(root, f"all but {2 * args.apps} applied", args.repeat)


def _compare(root: Path, title: str, repeat: int) -> None:
    django_time = best_time(root, ["migrate", "--plan"], repeat)
    ours = best_time(root, ["migrate_safe", "--plan"], repeat)
    print(f"{title}:")
    print(f"  {'Django migrate --plan':<30}{django_time:8.2f} s")
    print(f"  {'migrate_safe --plan':<30}{ours:8.2f} s")
    print(f"  {'ratio (migrate_safe / Django)':<30}{ours / django_time:8.2f}x   target: <= 1.50x")


if __name__ == "__main__":
    main()
