"""A no-change deploy_pull against a full one, on a real deploy root of example_project.

Run from the repository root with the test extra installed:

    python benchmarks/deploy_pull_no_change.py [--rounds 3]

Each round commits something to every stage — a requirement bumped (a wheel in the repository's
wheelhouse, installed with --offline so no network is timed), a new static file, a new additive
migration — and times a full ``deploy_pull``; then it times a ``deploy_pull`` with nothing new,
which skips the dependencies and static stages. Both run as a user would run them: ``manage.py
deploy_pull`` in the live slot's interpreter. Target: the no-change pull in 2 s or less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from tests.deploy_pull.wheels import make_wheel
from tests.deployment import Site, build_site, commit_file, git

MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notes", "{previous}")]
    operations = [migrations.AddField("note", "extra_{number}", models.IntegerField(null=True))]
"""


def timed_pull(site: Site) -> float:
    started = time.perf_counter()
    completed = site.manage("live", "deploy_pull", "--offline", "-v0", check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"deploy_pull failed:\n{completed.stdout}\n{completed.stderr}")
    return elapsed


def change_everything(site: Site, number: int, previous: str) -> str:
    make_wheel(site.source / "wheelhouse", "deploykit-bench", f"1.{number}")
    git(site.source, "add", "wheelhouse")
    commit_file(site.source, "requirements.txt", f"deploykit-bench==1.{number}\n", f"requirements {number}")
    commit_file(
        site.source, f"example_project/notes/static/notes/round{number}.css", "p {}\n", f"static {number}"
    )
    name = f"{number + 2:04d}_extra_{number}"
    commit_file(
        site.source,
        f"example_project/notes/migrations/{name}.py",
        MIGRATION.format(previous=previous, number=number),
        f"migration {number}",
    )
    return name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="Full and no-change pulls to time (default 3).")
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="deploykit-bench-") as base:
        site = build_site(Path(base))
        site.manage("live", "migrate", "-v0")
        full, unchanged = [], []
        previous = "0002_note_body"
        for number in range(1, rounds + 1):
            previous = change_everything(site, number, previous)
            full.append(timed_pull(site))
            unchanged.append(timed_pull(site))
            print(f"round {number}: full {full[-1]:.2f} s, no change {unchanged[-1]:.2f} s", flush=True)
    full_median, unchanged_median = statistics.median(full), statistics.median(unchanged)
    print()
    print(f"{'deploy_pull':<28}{'median':>10}{'min':>10}")
    print(f"{'full (every stage works)':<28}{full_median:>9.2f}s{min(full):>9.2f}s")
    print(f"{'no change (stages skipped)':<28}{unchanged_median:>9.2f}s{min(unchanged):>9.2f}s")
    print(f"no-change / full: {unchanged_median / full_median:.2f}")
    verdict = "meets" if unchanged_median <= 2.0 else "MISSES"
    print(f"target: no-change pull <= 2 s: {verdict} ({unchanged_median:.2f} s)")


if __name__ == "__main__":
    main()
