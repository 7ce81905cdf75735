"""The demo's v2 of example_project: a column added (additive) and an old one dropped (destructive).

Two migrations, one per phase: 0003 adds ``summary`` (nullable, so v1's INSERTs still work
while both versions run), 0004 drops ``body`` (with a DB default, so v1 could still insert
until the drop, which runs only after v2 is live).
"""

from __future__ import annotations

from pathlib import Path

MODELS = """from __future__ import annotations

from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=200, null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return self.title
"""

ADD_SUMMARY = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notes", "0002_note_body")]
    operations = [
        migrations.AddField("note", "summary", models.CharField(max_length=200, null=True, blank=True)),
    ]
"""

DROP_BODY = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notes", "0003_note_summary")]
    operations = [migrations.RemoveField("note", "body")]
"""

FILES = {
    "example_project/notes/models.py": MODELS,
    "example_project/notes/migrations/0003_note_summary.py": ADD_SUMMARY,
    "example_project/notes/migrations/0004_remove_note_body.py": DROP_BODY,
}


def write_v2(checkout: Path) -> list[str]:
    """Write v2 into a checkout of example_project's repository; return the paths to commit."""
    for path, text in FILES.items():
        (checkout / path).write_text(text, encoding="utf-8")
    admin = checkout / "example_project/notes/admin.py"
    admin.write_text(admin.read_text(encoding="utf-8").replace('"body"', '"summary"'), encoding="utf-8")
    index = checkout / "example_project/notes/templates/notes/index.html"
    index.write_text(
        index.read_text(encoding="utf-8").replace("<h1>Notes</h1>", "<h1>Notes v2</h1>"), encoding="utf-8"
    )
    return [*FILES, "example_project/notes/admin.py", "example_project/notes/templates/notes/index.html"]
