"""The corpus: real third-party packages at an old and a new release, the one place their pins live.

Each package was chosen for what its history exercises; both pins support Django 5.2 and install
from wheels only (psycopg2 and mysqlclient, the drivers the tests use, are built once and then come
from the wheel cache). 291 migrations at the new pins; the upgrade applies 23.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Package:
    name: str
    old: str
    new: str
    apps: tuple[str, ...]
    why: str


PACKAGES: tuple[Package, ...] = (
    Package(
        "wagtail",
        "7.0.10",
        "7.4.4",
        (
            "wagtail.contrib.forms",
            "wagtail.contrib.redirects",
            "wagtail.contrib.settings",
            "wagtail.contrib.search_promotions",
            "wagtail.embeds",
            "wagtail.sites",
            "wagtail.users",
            "wagtail.snippets",
            "wagtail.documents",
            "wagtail.images",
            "wagtail.search",
            "wagtail.admin",
            "wagtail",
            "modelcluster",
            "taggit",
        ),
        "The largest history here (203 migrations, 6 more of taggit's): two squashed initial migrations"
        " with `replaces`, about 30 RunPython data migrations, many AlterField and RenameField changes,"
        " unique_together turned into UniqueConstraint (wagtailcore.0087); 7.0 is the LTS a site"
        " would upgrade from, 7.4 brings 7 new migrations.",
    ),
    Package(
        "django-celery-results",
        "2.5.1",
        "2.6.0",
        ("django_celery_results",),
        "14 migrations: a NOT NULL AddField back-filled by RunPython, RemoveField, index renames and"
        " removals (Meta.indexes replacing db_index); 2.6 adds three.",
    ),
    Package(
        "django-axes",
        "7.0.2",
        "8.3.1",
        ("axes",),
        "A security package many sites run: RemoveField of NOT NULL columns, unique_together changed"
        " around a RunPython clean-up (0007); the 8.x major adds a table.",
    ),
    Package(
        "django-otp",
        "1.5.4",
        "1.7.5",
        (
            "django_otp",
            "django_otp.plugins.otp_static",
            "django_otp.plugins.otp_totp",
            "django_otp.plugins.otp_hotp",
            "django_otp.plugins.otp_email",
        ),
        "Five small apps in one package (15 migrations): NOT NULL AddField with Python defaults on"
        " existing tables; no migration between the pins, so it tests the fresh install only.",
    ),
    Package(
        "django-auditlog",
        "3.0.0",
        "3.4.1",
        ("auditlog",),
        "17 migrations of AlterField and AddField on one busy table (type changes, TextField to"
        " JSONField); 3.4 adds two.",
    ),
    Package(
        "django-waffle",
        "4.2.0",
        "5.0.0",
        ("waffle",),
        "Feature flags (4 migrations, AlterField of unique columns); no migration between the pins,"
        " a major upgrade that must leave the database alone.",
    ),
    Package(
        "django-oauth-toolkit",
        "3.0.1",
        "3.4.1",
        ("oauth2_provider",),
        "22 migrations of swappable models: NOT NULL AddField with Python defaults, CharField to"
        " TextField, token checksums added, filled by RunPython and made unique; 3.4 adds ten.",
    ),
)

# What the project around the corpus needs; the drivers at the versions this test environment runs.
BASE = ("Django", "psycopg2", "mysqlclient")

# django-syzygy, whose verdicts the report prints beside ours; installed only by the benchmark.
SYZYGY = "django-syzygy==1.2.3"


def requirements(which: str) -> list[str]:
    """Requirement lines of the corpus at ``old`` or ``new`` pins."""
    return [f"{package.name}=={getattr(package, which)}" for package in PACKAGES]


def installed_apps() -> list[str]:
    return [app for package in PACKAGES for app in package.apps]
