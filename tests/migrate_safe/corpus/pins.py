"""The corpus: real third-party packages at an old and a new release, the one place their pins live.

Each package was chosen for what its history exercises; both pins support Django 5.2 and install
from wheels only (psycopg2 and mysqlclient, which the project's own tests use, are built once and
then come from pip's wheel cache).
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
        "The largest history here (about 200 migrations over its apps and taggit's): squashed migrations"
        " with `replaces`, many RunPython data migrations, AlterField changes, index and constraint"
        " rewrites; 7.0 is the LTS a site would upgrade from.",
    ),
    Package(
        "django-celery-results",
        "2.5.1",
        "2.6.0",
        ("django_celery_results",),
        "Squashed migrations alongside the migrations they replace, index changes and AlterField.",
    ),
    Package(
        "django-axes",
        "7.0.2",
        "8.3.1",
        ("axes",),
        "A security package every other Django site runs; AlterField and index changes across majors.",
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
        "Several small apps sharing one package; AddField with Python defaults on existing tables.",
    ),
    Package(
        "django-auditlog",
        "3.0.0",
        "3.4.1",
        ("auditlog",),
        "A long history of AlterField and AddField on one busy table, with RunPython data migrations.",
    ),
    Package(
        "django-waffle",
        "4.2.0",
        "5.0.0",
        ("waffle",),
        "Feature flags: unique fields, AlterField of choices and defaults, a new major.",
    ),
    Package(
        "django-oauth-toolkit",
        "3.0.1",
        "3.4.1",
        ("oauth2_provider",),
        "A swappable-model history with AddField of NOT NULL columns and AlterField on foreign keys.",
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
