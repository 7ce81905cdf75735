"""What a stage says it did, from the output of the command it ran."""

from __future__ import annotations

import pytest

from django_deploykit.deploy_pull.static import collected_summary
from django_deploykit.deploy_root.dependencies import newly_installed
from django_deploykit.deploy_root.stages import applied_migrations_summary


class CollectedSummaryTests:
    @pytest.mark.parametrize(
        ("output", "summary"),
        [
            (
                "Copying '/srv/site/green/notes/static/notes/site.css'\n\n"
                "12 static files copied to '/srv/site/shared/static', 130 unmodified.\n",
                "collected 12 static files (130 unmodified)",
            ),
            ("\n1 static file copied to '/srv/static'.\n", "collected 1 static file"),
            (
                "\n0 static files copied to '/srv/static', 142 unmodified, 142 post-processed.\n",
                "collected 0 static files (142 unmodified, 142 post-processed)",
            ),
            ("\n3 static files symlinked to '/srv/static'.\n", "symlinked 3 static files"),
            ("something else entirely\n", "collectstatic ran but printed no count"),
        ],
    )
    def test_collectstatic(self, output: str, summary: str) -> None:
        assert collected_summary(output) == summary


class NewlyInstalledTests:
    def test_the_packages_pip_installed(self) -> None:
        output = (
            "Processing ./wheelhouse/six-1.17.0.whl\nSuccessfully installed deploykit-probe-1.0 six-1.17.0\n"
        )
        assert newly_installed(output) == ["deploykit-probe-1.0", "six-1.17.0"]

    def test_nothing_new(self) -> None:
        assert newly_installed("Requirement already satisfied: six==1.17.0 in ./.venv\n") == []


class AppliedMigrationsSummaryTests:
    def test_what_migrate_safe_applied(self) -> None:
        document = {
            "action": "apply",
            "applied": ["notes.0003_note_summary", "shop.0002_colour"],
            "exit_code": 0,
        }
        assert applied_migrations_summary(document, "additive", "/logs/05-migrate.log") == (
            "applied 2 additive migrations: notes.0003_note_summary, shop.0002_colour"
        )

    def test_nothing_applied(self) -> None:
        assert applied_migrations_summary({"applied": []}, "destructive", "/logs/x.log") == (
            "no destructive migration was pending"
        )
