"""The documented session, verbatim through manage.py, on a copy of the example project."""

from __future__ import annotations

from pathlib import Path

from django_deploykit.exit_codes import ExitCode
from tests.example.test_example_project import run

SUMMARY = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notes", "0002_note_body")]

    operations = [migrations.AddField("note", "summary", models.CharField(max_length=300, null=True))]
"""

REMOVE_BODY = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notes", "0003_note_summary")]

    operations = [migrations.RemoveField("note", "body")]
"""


class ExampleProjectTests:
    def test_additive_before_the_swap_destructive_after(self, example_project: Path) -> None:
        assert run(example_project, "manage.py", "migrate_safe", "--phase=all").returncode == 0
        migrations = example_project / "notes" / "migrations"
        (migrations / "0003_note_summary.py").write_text(SUMMARY)
        (migrations / "0004_remove_note_body.py").write_text(REMOVE_BODY)

        check = run(example_project, "manage.py", "migrate_safe", "--check", check=False)
        assert check.returncode == ExitCode.MIGRATIONS_PENDING
        early = run(example_project, "manage.py", "migrate_safe", "--phase=destructive", check=False)
        assert early.returncode == 1
        assert "run --phase=additive before the swap" in early.stderr

        additive = run(example_project, "manage.py", "migrate_safe", "--phase=additive")
        assert "Applying notes.0003_note_summary... OK" in additive.stdout
        assert "notes.0004" not in additive.stdout.split("Applying", 1)[1]
        destructive = run(example_project, "manage.py", "migrate_safe", "--phase=destructive")
        assert "Applying notes.0004_remove_note_body... OK" in destructive.stdout
        assert run(example_project, "manage.py", "migrate_safe", "--check", check=False).returncode == 0
